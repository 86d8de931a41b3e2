#include "batch/BatchRun.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>

#include "batch/BatchPlan.h"
#include "batch/CaseRunner.h"
#include "batch/CaseWork.h"
#include "batch/MpiBatch.h"
#include "batch/Progress.h"
#include "batch/ReportCollector.h"
#include "batch/ReportMerge.h"
#include "batch/Shard.h"
#include "batch/ThreadBudget.h"
#include "core/Error.h"
#include "pipeline/Log.h"

namespace ctd::batch {

bool launchedByMpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var); v && std::atoi(v) > 1) return true;
  return false;
}

BatchPlan planBatch(const DefaceOptions& opt) {
  BatchPlan plan;
  plan.discovery = discoverCases(opt.input);
  const Shard shard{opt.shard_index, opt.shard_count};
  for (std::size_t i = 0; i < plan.discovery.cases.size(); ++i)
    if (shard.holds(caseLabel(plan.discovery.cases[i]))) plan.selected.push_back(i);
  plan.outside_cases = plan.discovery.skipped;
  for (const auto& c : plan.discovery.cases) {
    plan.case_skipped.push_back(skippedBelow(plan.discovery.skipped, c.root));
    std::erase_if(plan.outside_cases, [&](const SetAside& s) { return !skippedBelow({s}, c.root).empty(); });
  }
  return plan;
}

int finishBatch(const DefaceOptions& opt, const ReportCollector& collector) {
  const RunReport report = collector.save();
  finishRun(opt, report);
  CaseWork::removeIfEmpty(CaseRunner::workRoot(opt));
  std::map<std::string, int> counts;
  for (const auto& c : report.cases) ++counts[toString(c.status)];
  std::string summary = std::to_string(report.cases.size()) + " cases:";
  for (const auto& [status, n] : counts) summary += " " + std::to_string(n) + " " + status + ",";
  const Shard shard{opt.shard_index, opt.shard_count};
  summary += " report " + (opt.output / (shard.reportStem() + ".json")).string();
  log::info(summary);
  if (shard.active()) {
    if (const auto merged = mergeIfComplete(opt.output, shard.count))
      log::info("all " + std::to_string(shard.count) + " shard reports present: merged into " +
                (opt.output / "ctdeface-report.json").string());
  }
  return report.exitCode();
}

namespace {

int runHere(const DefaceOptions& opt) {
  std::filesystem::create_directories(opt.output);
  const BatchPlan plan = planBatch(opt);
  const std::size_t n = plan.selected.size();
  log::info(std::string(plan.discovery.single_case ? "one case" : std::to_string(plan.discovery.cases.size()) + " cases") +
            " under " + opt.input.string() +
            (opt.shard_count ? ", " + std::to_string(n) + " in shard " + std::to_string(opt.shard_index) + "/" +
                                   std::to_string(opt.shard_count)
                             : std::string()));
  const int total = opt.threads > 0 ? opt.threads : availableCores();
  const int jobs = static_cast<int>(std::clamp<std::size_t>(static_cast<std::size_t>(std::max(1, opt.jobs)), 1, std::max<std::size_t>(1, n)));
  DefaceOptions case_opt = opt;
  case_opt.threads = threadsPerCase(total, jobs);
  // The memory limit is the machine's too: cases running at once share it.
  if (case_opt.max_memory) case_opt.max_memory /= static_cast<std::uint64_t>(jobs);

  const Shard shard{opt.shard_index, opt.shard_count};
  ReportCollector collector(opt, plan, shard.reportStem());
  collector.start();
  {
    Progress progress(n);
    std::atomic<std::size_t> next{0};
    runCaseWorkers(
        plan, case_opt, jobs,
        [&](std::size_t& slot) {
          slot = next++;
          return slot < n;
        },
        [&](std::size_t slot, CaseReport r) {
          progress.caseFinished(r);
          collector.finished(slot, std::move(r));
        });
  }
  return finishBatch(opt, collector);
}

}  // namespace

int runBatchCommand(const DefaceOptions& opt) {
  if (launchedByMpi()) {
#ifdef CTD_WITH_MPI
    return runMpiBatch(opt);
#else
    throw Error("started under mpirun, but this ctdeface was built without MPI (-DCTDEFACE_MPI=ON); use --shard I/N");
#endif
  }
  return runHere(opt);
}

}  // namespace ctd::batch
