// Resume rules: a finished case is skipped while its inputs, outputs and the
// options that shape the output are unchanged; otherwise (or with --force) it is
// redone. The work root holds a case's intermediates until it succeeds.
#include <gtest/gtest.h>

#include <fstream>

#include "BatchCorpus.h"
#include "batch/Shard.h"
#include "batch/ThreadBudget.h"
#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"

namespace fs = std::filesystem;
using namespace ctd::test;

namespace {

std::map<std::string, std::string> statuses(const fs::path& out) {
  std::map<std::string, std::string> m;
  const nlohmann::json report = readJson(out / "ctdeface-report.json");
  for (const auto& c : report["cases"]) m[c["case"].get<std::string>()] = c["status"].get<std::string>();
  return m;
}

std::size_t count(const std::map<std::string, std::string>& m, const std::string& status) {
  std::size_t n = 0;
  for (const auto& [k, v] : m) n += v == status;
  return n;
}

}  // namespace

TEST(BatchResume, SkipsWhatIsDoneRedoesWhatChanged) {
  const fs::path dir = freshBatchDir("resume");
  const fs::path in = dir / "in", out = dir / "out";
  for (unsigned i = 0; i < 4; ++i) writeSmallCase(in / ("c" + std::to_string(i)), 60 + i);
  const std::string args = "-i " + quoted(in.string()) + " -o " + quoted(out.string()) + " --no-qc";
  ASSERT_EQ(runCtdeface(args).exit_code, 0);
  const auto first = outputFiles(out);
  EXPECT_TRUE(fs::exists(out / ".ctdeface-state" / "c0.json"));
  EXPECT_FALSE(fs::exists(out / ".ctdeface-work")) << "work folders of succeeded cases are removed";

  // Touched but identical: still skipped.
  const fs::path touched = *fs::directory_iterator(in / "c0" / "dicom");
  fs::last_write_time(touched, fs::file_time_type::clock::now());
  RunResult r = runCtdeface(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(statuses(out), "skipped"), 4u) << r.output;

  // Changed content (a pixel near the end of the file, same size) redoes that case only.
  {
    const fs::path f = in / "c1" / "dicom" / "IM0001.dcm";
    std::string bytes = readBytes(f);
    bytes[bytes.size() - 20] ^= 0x01;
    std::ofstream(f, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  r = runCtdeface(args);
  auto st = statuses(out);
  EXPECT_EQ(st["c1"], "no-face-in-view") << r.output;
  EXPECT_EQ(count(st, "skipped"), 3u);

  // A deleted output redoes its case and brings the file back.
  fs::remove(out / "c2" / "dicom" / "IM0003.dcm");
  r = runCtdeface(args);
  st = statuses(out);
  EXPECT_NE(st["c2"], "skipped") << r.output;
  EXPECT_TRUE(fs::exists(out / "c2" / "dicom" / "IM0003.dcm"));

  // Another fill changes the output: every case is redone. --force too.
  r = runCtdeface(args + " --fill -900");
  EXPECT_EQ(count(statuses(out), "skipped"), 0u) << r.output;
  r = runCtdeface(args + " --fill -900");
  EXPECT_EQ(count(statuses(out), "skipped"), 4u) << r.output;
  r = runCtdeface(args + " --fill -900 --force");
  EXPECT_EQ(count(statuses(out), "skipped"), 0u) << r.output;
}

TEST(BatchResume, WorkRootHoldsIntermediatesUntilTheCaseSucceeds) {
  const fs::path dir = freshBatchDir("work");
  const fs::path in = dir / "in", out = dir / "out", work = dir / "work";
  writeFaceCase(in / "good", 70);
  truncateSlice(writeSmallCase(in / "bad", 71));
  const std::string args = "-i " + quoted(in.string()) + " -o " + quoted(out.string()) + " -w " + quoted(work.string()) + " --no-qc";
  RunResult r = runCtdeface(args);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(fs::exists(work / "good")) << "removed: the case succeeded";
  ASSERT_TRUE(fs::exists(work / "bad" / "case.log")) << "kept: the case failed";
  EXPECT_TRUE(fs::exists(work / "bad" / "case.json"));
  EXPECT_NE(readBytes(work / "bad" / "case.log").find("IM0005.dcm"), std::string::npos);

  r = runCtdeface(args + " --force --keep-work");
  EXPECT_TRUE(fs::exists(work / "good" / "case.log")) << r.output;
  bool mask = false;
  for (const auto& e : fs::directory_iterator(work / "good")) mask |= e.path().string().ends_with("_mask.nii.gz");
  EXPECT_TRUE(mask) << "--keep-work keeps each series' face mask";
  EXPECT_FALSE(fs::exists(out / ".ctdeface-work")) << "with -w nothing goes to OUT/.ctdeface-work";

  const auto inputs = snapshotTree(in);
  r = runCtdeface("-i " + quoted(in.string()) + " -o " + quoted((dir / "out2").string()) + " -w " +
                  quoted((in / "good" / "work").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("inside the input"), std::string::npos) << r.output;
  EXPECT_EQ(snapshotTree(in), inputs);
}

TEST(BatchResume, ShardAndThreadBudgetRules) {
  EXPECT_THROW(ctd::batch::parseShard("0/3"), std::exception);
  EXPECT_THROW(ctd::batch::parseShard("4/3"), std::exception);
  EXPECT_THROW(ctd::batch::parseShard("1-3"), std::exception);
  const auto s = ctd::batch::parseShard("2/3");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  // Every name lands in exactly one of the shards.
  for (const std::string name : {"a", "case001", "Patient^X", ""}) {
    int holders = 0;
    for (int i = 1; i <= 3; ++i) holders += ctd::batch::Shard{i, 3}.holds(name);
    EXPECT_EQ(holders, 1) << name;
  }
  EXPECT_EQ(ctd::batch::threadsPerCase(2, 2), 1);
  EXPECT_EQ(ctd::batch::threadsPerCase(8, 3), 2);
  EXPECT_EQ(ctd::batch::threadsPerCase(1, 4), 1);
  EXPECT_GE(ctd::batch::availableCores(), 1);
}
