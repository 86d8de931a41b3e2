// Acceptance of issue 5/7: `mpirun -np 3 ctdeface` gives the same OUT as -j 1,
// and so do three --shard runs (job-array style) with their merged report.
#include <gtest/gtest.h>

#include "BatchCorpus.h"
#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"

namespace fs = std::filesystem;
using namespace ctd::test;

namespace {

struct Corpus {
  fs::path dir, in, ref;
};

Corpus makeCorpus(const std::string& name) {
  Corpus c;
  c.dir = freshBatchDir(name);
  c.in = c.dir / "in";
  writeFaceCase(c.in / "a-face", 31);
  for (unsigned i = 0; i < 8; ++i) writeSmallCase(c.in / ("s" + std::to_string(i)), 40 + i);
  truncateSlice(writeSmallCase(c.in / "z-broken", 49));
  c.ref = c.dir / "ref";
  const RunResult r = runCtdeface("-i " + quoted(c.in.string()) + " -o " + quoted(c.ref.string()) + " -j 1 --no-qc");
  EXPECT_EQ(r.exit_code, 1) << r.output;  // z-broken fails
  return c;
}

void expectSameOutput(const fs::path& ref, const fs::path& out, const std::string& stem = "ctdeface-report") {
  const auto a = outputFiles(ref), b = outputFiles(out);
  EXPECT_EQ(a.size(), b.size());
  EXPECT_TRUE(a == b) << "output files differ from the -j 1 run";
  EXPECT_EQ(stableReport(ref), stableReport(out, stem));
}

}  // namespace

TEST(BatchMpi, ThreeRanksGiveTheSameOutputAsOneJob) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  const Corpus c = makeCorpus("mpi");
  const auto inputs = snapshotTree(c.in);
  const fs::path out = c.dir / "out-mpi";
  const auto r = runCommand(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "
      "mpirun --allow-run-as-root --oversubscribe -np 3 " +
      quoted(CTD_CLI) + " -i " + quoted(c.in.string()) + " -o " + quoted(out.string()) + " --no-qc");
  EXPECT_EQ(r.exit_code, 1) << r.output;  // rank 0's exit code: the broken case failed
  EXPECT_NE(r.output.find("3 MPI ranks"), std::string::npos) << r.output;
  expectSameOutput(c.ref, out);
  EXPECT_EQ(snapshotTree(c.in), inputs) << "input changed";

  // Again under MPI: everything finished is skipped, the failed case is redone.
  const auto again = runCommand(
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --allow-run-as-root --oversubscribe -np 3 " +
      quoted(CTD_CLI) + " -i " + quoted(c.in.string()) + " -o " + quoted(out.string()) + " --no-qc");
  EXPECT_EQ(again.exit_code, 1) << again.output;
  const nlohmann::json rep = readJson(out / "ctdeface-report.json");
  std::size_t skipped = 0;
  for (const auto& cs : rep["cases"]) skipped += cs["status"] == "skipped";
  EXPECT_EQ(skipped, 9u);
  expectSameOutput(c.ref, out);
}

TEST(BatchShards, ThreeShardsAndTheirMergeEqualOneRun) {
  const Corpus c = makeCorpus("shards");
  const fs::path out = c.dir / "out-shards";
  std::size_t cases = 0;
  for (int i = 1; i <= 3; ++i) {
    const RunResult r = runCtdeface("-i " + quoted(c.in.string()) + " -o " + quoted(out.string()) + " --no-qc --shard " +
                                    std::to_string(i) + "/3");
    const std::string stem = "ctdeface-report.shard-" + std::to_string(i) + "-of-3";
    ASSERT_TRUE(fs::exists(out / (stem + ".json"))) << r.output;
    cases += readJson(out / (stem + ".json"))["cases"].size();
    // Only the last shard finds all three parts and merges them.
    EXPECT_EQ(fs::exists(out / "ctdeface-report.json"), i == 3) << r.output;
  }
  EXPECT_EQ(cases, 10u) << "each case in exactly one shard";
  expectSameOutput(c.ref, out);

  // By hand, the same merge.
  fs::remove(out / "ctdeface-report.json");
  const RunResult m = runCtdeface("report merge " + quoted(out.string()));
  EXPECT_EQ(m.exit_code, 1) << m.output;  // the merged report holds the failed case
  EXPECT_EQ(stableReport(c.ref), stableReport(out));

  const RunResult bad = runCtdeface("-i " + quoted(c.in.string()) + " -o " + quoted(out.string()) + " --shard 4/3");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

// A rank that dies (SIGKILL at its second finished case) ends the MPI job; the
// report on disk then lists every case, the unfinished ones failed, and running
// the command again resumes them to the same output as an uninterrupted run.
TEST(BatchMpi, LostRankCasesReportedFailedAndResumed) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed";
  const Corpus c = makeCorpus("mpi-lost");
  const fs::path out = c.dir / "out-mpi";
  const std::string mpirun =
      "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --allow-run-as-root --oversubscribe -np 3 ";
  const std::string args = " -i " + quoted(c.in.string()) + " -o " + quoted(out.string()) + " --no-qc";
  const auto died = runCommand("CTDEFACE_TEST_KILL_AT=case-done:2 " + mpirun + quoted(CTD_CLI) + args);
  EXPECT_NE(died.exit_code, 0) << died.output;
  const nlohmann::json rep = readJson(out / "ctdeface-report.json");
  EXPECT_EQ(rep["exit_code"], 1);
  ASSERT_EQ(rep["cases"].size(), 10u);
  std::size_t unfinished = 0;
  for (const auto& cs : rep["cases"])
    if (cs["error"].get<std::string>().find("not finished") != std::string::npos) {
      EXPECT_EQ(cs["status"], "failed");
      ++unfinished;
    }
  EXPECT_GT(unfinished, 0u) << rep.dump(1);

  const auto again = runCommand(mpirun + quoted(CTD_CLI) + args);
  EXPECT_EQ(again.exit_code, 1) << again.output;  // only z-broken fails
  expectSameOutput(c.ref, out);
}
