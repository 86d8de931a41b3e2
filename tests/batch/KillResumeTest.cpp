// Acceptance of issue 5/7: kill -9 the batch at many different points, run the
// same command again, and the final OUT is byte-identical to an uninterrupted
// run's (reports compared without timings and status); while the runs go on, a
// watcher checks that every file at a final path is always complete (equal to
// the uninterrupted run's file, or a parseable report).
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "BatchCorpus.h"
#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"

namespace fs = std::filesystem;
using namespace ctd::test;

namespace {

struct Corpus {
  fs::path dir, in, ref;
  double ref_seconds = 0;
  std::map<std::string, std::string> ref_files;
  nlohmann::json ref_report;
};

// One face case (26 files), a case with two series, and small ones; the
// uninterrupted reference run with -j 1.
Corpus makeCorpus(const std::string& name) {
  Corpus c;
  c.dir = freshBatchDir(name);
  c.in = c.dir / "in";
  writeFaceCase(c.in / "a-face", 11);
  writeSmallCase(c.in / "b-two-series" / "first", 12);
  writeSmallCase(c.in / "b-two-series" / "second", 13);
  for (unsigned i = 0; i < 4; ++i) writeSmallCase(c.in / ("c-small-" + std::to_string(i)), 20 + i);
  c.ref = c.dir / "ref";
  const auto t0 = std::chrono::steady_clock::now();
  const RunResult r = runCtdeface("-i " + quoted(c.in.string()) + " -o " + quoted(c.ref.string()) + " -j 1 --no-qc");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  c.ref_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  c.ref_files = outputFiles(c.ref);
  c.ref_report = stableReport(c.ref);
  EXPECT_GT(c.ref_files.size(), 50u);
  return c;
}

// Polls OUT while a run goes on: a file at a final path is never partial.
class FinalPathWatcher {
 public:
  FinalPathWatcher(fs::path out, const std::map<std::string, std::string>& ref) : out_(std::move(out)), ref_(ref) {
    thread_ = std::thread([this] {
      while (!stop_) {
        scan();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  ~FinalPathWatcher() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::size_t checks() const { return checks_; }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return violations_;
  }

 private:
  void scan() {
    std::error_code ec;
    if (!fs::exists(out_, ec)) return;
    for (auto it = fs::recursive_directory_iterator(out_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code sec;
      if (it->is_directory(sec) && name.rfind(".ctdeface-", 0) == 0) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(sec) || name.rfind(".", 0) == 0) continue;
      const std::string rel = it->path().lexically_relative(out_).string();
      std::ifstream in(it->path(), std::ios::binary);
      if (!in) continue;  // removed meanwhile (a redone case clears its old outputs)
      const std::string bytes(std::istreambuf_iterator<char>(in), {});
      ++checks_;
      std::string problem;
      if (name.ends_with(".json")) {
        if (!nlohmann::json::accept(bytes)) problem = "report is not complete JSON";
      } else if (name.ends_with(".csv")) {
        if (bytes.empty() || bytes.back() != '\n') problem = "report CSV does not end with a full line";
      } else {
        const auto ref = ref_.find(rel);
        if (ref == ref_.end()) problem = "not an output of the uninterrupted run";
        else if (ref->second != bytes)
          problem = "differs from the finished file (" + std::to_string(bytes.size()) + " of " +
                    std::to_string(ref->second.size()) + " bytes)";
      }
      if (!problem.empty()) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (violations_.size() < 20) violations_.push_back(rel + ": " + problem);
      }
    }
  }

  fs::path out_;
  const std::map<std::string, std::string>& ref_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> checks_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> violations_;
  std::thread thread_;
};

std::vector<std::string> batchArgs(const Corpus& c, const fs::path& out, int jobs) {
  return {"-i", c.in.string(), "-o", out.string(), "-j", std::to_string(jobs), "--no-qc", "-q"};
}

// Runs to completion (or to its kill point) under the watcher; returns the exit code.
int watchedRun(const Corpus& c, const fs::path& out, int jobs, const std::vector<std::string>& env,
               std::vector<std::string>& violations) {
  FinalPathWatcher w(out, c.ref_files);
  const pid_t pid = spawnCtdeface(batchArgs(c, out, jobs), c.dir / "runs.log", env);
  EXPECT_GT(pid, 0);
  const int rc = waitFor(pid);
  w.stop();
  for (const auto& v : w.violations()) violations.push_back(v);
  return rc;
}

void expectSameAsReference(const Corpus& c, const fs::path& out) {
  const auto files = outputFiles(out);
  EXPECT_EQ(files.size(), c.ref_files.size());
  for (const auto& [rel, bytes] : c.ref_files) {
    const auto it = files.find(rel);
    if (it == files.end()) {
      ADD_FAILURE() << "missing after resume: " << rel;
      continue;
    }
    EXPECT_TRUE(it->second == bytes) << "differs after resume: " << rel;
  }
  EXPECT_EQ(stableReport(out), c.ref_report);
  // Nothing of the interrupted runs is left: no staging folder, no temporary, no work folder.
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".ctdeface-staging-"), std::string::npos) << e.path();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << e.path();
  }
  EXPECT_FALSE(fs::exists(out / ".ctdeface-work"));
}

struct KillPoint {
  std::vector<std::string> kills;  // CTDEFACE_TEST_KILL_AT values, one killed run each
  int jobs = 1;
};

class BatchKillResume : public testing::TestWithParam<KillPoint> {};

}  // namespace

TEST_P(BatchKillResume, ResumedOutputIsByteIdenticalAndNeverPartial) {
  const KillPoint& kp = GetParam();
  const Corpus c = makeCorpus("kill");
  const auto inputs = snapshotTree(c.in);
  const fs::path out = c.dir / "out";
  std::vector<std::string> violations;
  for (const auto& k : kp.kills) {
    SCOPED_TRACE(k);
    const int rc = watchedRun(c, out, kp.jobs, {"CTDEFACE_TEST_KILL_AT=" + k}, violations);
    EXPECT_EQ(rc, -1) << "the run was not killed at " << k << " (the point was never reached)";
  }
  const int rc = watchedRun(c, out, kp.jobs, {}, violations);
  EXPECT_EQ(rc, 0) << readBytes(c.dir / "runs.log");
  EXPECT_TRUE(violations.empty()) << violations.front();
  expectSameAsReference(c, out);
  EXPECT_EQ(snapshotTree(c.in), inputs) << "input changed";
  // The resumed run skipped what the killed one had finished.
  const nlohmann::json rep = readJson(out / "ctdeface-report.json");
  std::size_t skipped = 0;
  for (const auto& cs : rep["cases"]) skipped += cs["status"] == "skipped";
  std::cout << "kills " << testing::PrintToString(kp.kills) << ": " << skipped << " of " << rep["cases"].size()
            << " cases skipped on resume\n";
}

INSTANTIATE_TEST_SUITE_P(
    Points, BatchKillResume,
    // Eight points (CI runs them under ASan too: each costs a reference, a killed and a resumed run).
    testing::Values(KillPoint{{"series-staged:1"}}, KillPoint{{"series-commit:13"}}, KillPoint{{"series-done:3"}},
                    KillPoint{{"case-outputs:2"}}, KillPoint{{"case-done:4"}}, KillPoint{{"report:2"}},
                    KillPoint{{"series-commit:30"}, 2},
                    KillPoint{{"series-commit:7", "case-done:2", "series-staged:2"}, 1}),
    [](const testing::TestParamInfo<KillPoint>& info) {
      std::string name;
      for (const auto& k : info.param.kills) name += (name.empty() ? "" : "_then_") + k;
      for (char& ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      return name + "_j" + std::to_string(info.param.jobs);
    });

// Kills at seeded random moments (not at a hook): two runs each killed once
// and then resumed into its own OUT.
TEST(BatchKillResume, RandomMomentsSeeded) {
  const Corpus c = makeCorpus("kill-random");
  const auto inputs = snapshotTree(c.in);
  std::mt19937 rng(20261128);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const fs::path out = c.dir / ("out-" + std::to_string(round));
    std::vector<std::string> violations;
    FinalPathWatcher w(out, c.ref_files);
    const pid_t pid = spawnCtdeface(batchArgs(c, out, 2), c.dir / "runs.log");
    ASSERT_GT(pid, 0);
    // Somewhere in the first 90 % of an uninterrupted run's time (measured just before, so load does not matter).
    const int delay_ms =
        std::uniform_int_distribution<int>(100, std::max(200, static_cast<int>(c.ref_seconds * 900)))(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    const int rc = waitFor(pid);
    w.stop();
    for (const auto& v : w.violations()) violations.push_back(v);
    std::cout << "round " << round << ": killed after " << delay_ms << " ms (exit " << rc << "), " << w.checks()
              << " file checks\n";
    FinalPathWatcher last(out, c.ref_files);
    const pid_t resume = spawnCtdeface(batchArgs(c, out, 2), c.dir / "runs.log");
    EXPECT_EQ(waitFor(resume), 0) << readBytes(c.dir / "runs.log");
    last.stop();
    EXPECT_GT(w.checks() + last.checks(), 0u) << "the watcher never saw a file";
    for (const auto& v : last.violations()) violations.push_back(v);
    EXPECT_TRUE(violations.empty()) << violations.front();
    expectSameAsReference(c, out);
  }
  EXPECT_EQ(snapshotTree(c.in), inputs) << "input changed";
}
