#pragma once
// What a batch run works through: the discovered cases, the subset this run
// (shard) handles, and how each case worker is configured.
#include <cstddef>
#include <functional>
#include <vector>

#include "dicom/CaseDiscovery.h"
#include "pipeline/DefaceJob.h"

namespace ctd::batch {

struct BatchPlan {
  Discovery discovery;
  std::vector<std::size_t> selected;  // indices into discovery.cases, in case order
  std::vector<std::vector<SetAside>> case_skipped;  // per case: unreadable entries below its root
  std::vector<SetAside> outside_cases;              // unreadable entries outside every case
};

// Discovers the cases under opt.input and keeps those of opt's shard.
BatchPlan planBatch(const DefaceOptions& opt);

class ReportCollector;
// Saves the report, removes an empty work root, logs the summary, merges the
// shard reports when this was the last shard; returns the exit code (0/1).
int finishBatch(const DefaceOptions& opt, const ReportCollector& collector);

// Runs plan.selected[slot] for every slot on `jobs` worker threads, each a
// CaseRunner with `case_opt` (threads = its share); `done(slot, report)` is called
// from the worker threads. `next_slot` hands out the work (a counter here, or
// requests to MPI rank 0).
using NextSlot = std::function<bool(std::size_t& slot)>;
using CaseDone = std::function<void(std::size_t slot, CaseReport report)>;
void runCaseWorkers(const BatchPlan& plan, const DefaceOptions& case_opt, int jobs, const NextSlot& next_slot,
                    const CaseDone& done);

}  // namespace ctd::batch
