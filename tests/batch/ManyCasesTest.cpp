// Acceptance of issue 5/7: 200 small synthetic cases and 5 broken ones in one
// root. The 200 succeed, the 5 fail with reasons naming the broken file, the
// exit code is 1, the report has all 205 cases, nothing of a failed series is in
// OUT, the input is unchanged, and a second run skips the 200 and redoes the 5.
#include <gtest/gtest.h>

#include <set>

#include "BatchCorpus.h"
#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"

namespace fs = std::filesystem;
using namespace ctd::test;

namespace {

struct Broken {
  std::string case_name, file;
};

}  // namespace

TEST(BatchManyCases, TwoHundredGoodFiveBrokenOneReport) {
  const fs::path dir = freshBatchDir("many");
  const fs::path in = dir / "in", out = dir / "out";
  // Names sort the broken cases among the good ones.
  for (unsigned i = 0; i < 200; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "case%03u", i);
    if (i % 40 == 7) writeFaceCase(in / name, 1000 + i);
    else writeSmallCase(in / name, 1000 + i);
  }
  std::vector<Broken> broken;
  broken.push_back({"case050b-truncated", truncateSlice(writeSmallCase(in / "case050b-truncated", 3001))});
  broken.push_back({"case100b-garbage", addGarbageDcm(writeSmallCase(in / "case100b-garbage", 3002))});
  broken.push_back({"case120b-pixel-length", shortenPixelData(writeSmallCase(in / "case120b-pixel-length", 3003))});
  broken.push_back({"case150b-jpegls-frame",
                    corruptCompressedFrame(writeSmallCase(in / "case150b-jpegls-frame", 3004, "1.2.840.10008.1.2.4.80"))});
  broken.push_back({"case199b-dangling-link", replaceWithBrokenLink(writeSmallCase(in / "case199b-dangling-link", 3005))});
  const auto before = snapshotTree(in);

  const std::string args = "-i " + quoted(in.string()) + " -o " + quoted(out.string()) + " -j 2 --no-qc";
  const RunResult r = runCtdeface(args);
  EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 4000);
  EXPECT_EQ(snapshotTree(in), before) << "input changed";

  const nlohmann::json rep = readJson(out / "ctdeface-report.json");
  ASSERT_EQ(rep["cases"].size(), 205u);
  EXPECT_EQ(rep["exit_code"], 1);
  std::map<std::string, nlohmann::json> cases;
  for (const auto& c : rep["cases"]) cases[c["case"]] = c;
  ASSERT_EQ(cases.size(), 205u);
  std::size_t ok = 0, defaced = 0;
  for (const auto& [name, c] : cases) {
    if (name.find("b-") != std::string::npos) continue;
    const std::string result = c["result"];
    EXPECT_TRUE(result == "defaced" || result == "no-face-in-view") << name << ": " << c.dump();
    ok += (result == "defaced" || result == "no-face-in-view");
    defaced += result == "defaced";
  }
  EXPECT_EQ(ok, 200u);
  EXPECT_EQ(defaced, 5u) << "the five full-head phantoms have a face to remove";
  for (const auto& b : broken) {
    SCOPED_TRACE(b.case_name);
    ASSERT_TRUE(cases.count(b.case_name));
    EXPECT_EQ(cases[b.case_name]["result"], "failed");
    const std::string err = cases[b.case_name]["error"];
    EXPECT_NE(err.find(b.file), std::string::npos) << "error does not name " << b.file << ": " << err;
    // Fail closed: no DICOM of the failed series anywhere under OUT/<case>.
    std::size_t written = 0;
    if (fs::exists(out / b.case_name))
      for (const auto& e : fs::recursive_directory_iterator(out / b.case_name)) written += e.is_regular_file();
    EXPECT_EQ(written, 0u);
    std::cout << b.case_name << ": " << err << "\n";
  }
  // The CSV has one line per series (every case here has one) plus the header.
  const std::string csv = readBytes(out / "ctdeface-report.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 206);
  // Every good case is in OUT with all its files, and nothing else is left over.
  for (const auto& [name, c] : cases) {
    if (c["result"] != "failed") {
      EXPECT_TRUE(fs::exists(out / name / "dicom")) << name;
    }
  }
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".ctdeface-staging-"), std::string::npos) << e.path();

  // Again: the 200 finished cases are skipped, the 5 failed ones redone (and fail again).
  const RunResult again = runCtdeface(args);
  EXPECT_EQ(again.exit_code, 1) << again.output.substr(0, 4000);
  const nlohmann::json rep2 = readJson(out / "ctdeface-report.json");
  ASSERT_EQ(rep2["cases"].size(), 205u);
  std::size_t skipped = 0;
  for (const auto& c : rep2["cases"]) {
    const std::string name = c["case"];
    if (name.find("b-") != std::string::npos) {
      EXPECT_EQ(c["status"], "failed") << name;
    } else {
      EXPECT_EQ(c["status"], "skipped") << name;
      skipped += c["status"] == "skipped";
    }
  }
  EXPECT_EQ(skipped, 200u);
  EXPECT_EQ(stableReport(out), stableJson(rep)) << "the resumed report differs from the first beyond status and timings";
  EXPECT_EQ(snapshotTree(in), before) << "input changed";
}
