#include "BadInputFixture.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <mutex>

#include "phantom/PhantomGenerator.h"
#include "support/TreeSnapshot.h"
#include "synth/SyntheticSeries.h"

namespace ctd::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The good case: a 96 x 96 x 52 head phantom with a face (about 1 MB), written
// once per test process and copied into each test's root.
const fs::path& goodPhantom() {
  static const fs::path dir = [] {
    const fs::path d = fs::path(CTD_BINARY_DIR) / "test-scratch" / "hardening" / ("good-" + std::to_string(::getpid()));
    fs::remove_all(d);
    phantom::PhantomSpec spec;
    spec.matrix = 96;
    spec.pixel_spacing_mm = 2.5;
    spec.slice_step_mm = 4;
    synth::SeriesSpec series;
    series.volume = phantom::makePhantom(spec).ct;
    series.series_description = "good phantom";
    synth::writeSeries(series, d);
    return d;
  }();
  return dir;
}

bool isReportOrHidden(const fs::path& rel) {
  const std::string first = rel.begin()->string();
  return first == "ctdeface-report.json" || first == "ctdeface-report.csv" || first == "qc" ||
         (!first.empty() && first[0] == '.' && first.find("staging") == std::string::npos);
}

}  // namespace

void BadInput::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  scratch_ = fs::path(CTD_BINARY_DIR) / "test-scratch" / "hardening" / info->name();
  fs::remove_all(scratch_);
  root_ = scratch_ / "in";
  bad_ = root_ / "bad";
  out_ = scratch_ / "out";
  in_ = root_;
  fs::create_directories(bad_);
  fs::copy(goodPhantom(), root_ / "good", fs::copy_options::recursive);
}

std::vector<fs::path> BadInput::writeHeadSeries(const fs::path& dir, const std::string& ts, unsigned seed) {
  phantom::PhantomSpec spec;
  spec.seed = seed;
  spec.matrix = 64;
  spec.pixel_spacing_mm = 3.5;
  spec.slice_step_mm = 8;
  synth::SeriesSpec series;
  series.volume = phantom::makePhantom(spec).ct;
  series.transfer_syntax = ts;
  series.series_description = "bad phantom";
  series.series_number = 7;
  series.seed = seed;
  return synth::writeSeries(series, dir);
}

BatchRun BadInput::runBatch(const std::vector<std::string>& extra, const ChildLimits& limits) {
  const auto before = snapshotTree(in_);
  // --no-qc: the renders and face detector are tested in tests/qc; here they
  // would only triple each run's time.
  std::vector<std::string> args{CTD_CLI, "-i", in_.string(), "-o", out_.string(), "--no-qc"};
  args.insert(args.end(), extra.begin(), extra.end());
  BatchRun run;
  run.child = runChild(args, limits);
  const ChildResult& c = run.child;
  SCOPED_TRACE(c.output);

  EXPECT_TRUE(c.exitedNormally()) << c.describe();
  EXPECT_TRUE(c.exit_code == 0 || c.exit_code == 1) << c.describe();
  EXPECT_EQ(c.output.find("Sanitizer"), std::string::npos);
  EXPECT_EQ(c.output.find("runtime error"), std::string::npos);
  EXPECT_EQ(c.output.find("terminate called"), std::string::npos);
  EXPECT_EQ(before, snapshotTree(in_)) << "the input tree changed";

  std::ifstream rep(out_ / "ctdeface-report.json");
  EXPECT_TRUE(rep.good()) << "no report";
  if (rep.good()) run.report = nlohmann::json::parse(rep, nullptr, false);
  EXPECT_TRUE(run.report.is_object()) << "report is not a JSON object";
  if (!run.report.is_object()) run.report = nlohmann::json::object();

  if (expect_good_) {
    bool defaced = false;
    for (const auto& s : run.report.value("series", nlohmann::json::array()))
      if (s.value("description", "") == "good phantom")
        defaced = s.value("status", "") == "defaced" && s.value("files_out", 0) == 52;
    EXPECT_TRUE(defaced) << "the good case beside the bad one was not defaced";
    for (const auto& e : fs::directory_iterator(goodPhantom()))
      EXPECT_TRUE(fs::is_regular_file(out_ / "good" / e.path().filename())) << e.path().filename();
  }

  // Nothing but the good case, the report (and hidden run state) in OUT.
  if (fs::exists(out_))
    for (auto it = fs::recursive_directory_iterator(out_); it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory()) continue;  // an empty case folder holds nothing of a series
      const fs::path rel = it->path().lexically_relative(out_);
      if (*rel.begin() == "good" && rel.string().find("staging") == std::string::npos) continue;
      if (may_write_(rel) && rel.string().find("staging") == std::string::npos) continue;
      if (isReportOrHidden(rel)) continue;
      ADD_FAILURE() << "in OUT but not from the good case: " << rel;
    }
  return run;
}

std::string BadInput::expectReported(const BatchRun& run, const std::string& name,
                                     const std::vector<std::string>& parts) {
  std::vector<std::string> lines;
  const auto& r = run.report;
  auto names = [&](const std::string& text) { return text.find(name) != std::string::npos; };
  for (const auto& s : r.value("series", nlohmann::json::array())) {
    const std::string error = s.value("error", "");
    if (s.value("status", "") == "failed" && names(error)) lines.push_back(error);
  }
  for (const auto& f : r.value("other_files", nlohmann::json::array())) {
    const std::string path = f.value("path", "");
    if (names(path) && !f.value("copied", false)) lines.push_back(path + ": " + f.value("reason", ""));
  }
  for (const auto& e : r.value("case_errors", nlohmann::json::array()))
    if (names(e.get<std::string>())) lines.push_back(e.get<std::string>());

  for (const auto& line : lines) {
    bool all = true;
    for (const auto& p : parts) all = all && lower(line).find(lower(p)) != std::string::npos;
    if (!all) continue;
    // One line: a path may hold a newline itself, the reason after it may not.
    const std::size_t after_name = line.rfind(name);
    EXPECT_EQ(line.find('\n', after_name == std::string::npos ? 0 : after_name + name.size()), std::string::npos)
        << "not one line: " << line;
    return line;
  }
  std::string seen;
  for (const auto& l : lines) seen += "\n  " + l;
  ADD_FAILURE() << "no report line names '" << name << "' with the expected reason; lines naming it:" << seen
                << "\nreport: " << r.dump(1);
  return "";
}

}  // namespace ctd::test
