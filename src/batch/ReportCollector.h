#pragma once
// Gathers the case reports of a batch, whatever order they finish in (threads,
// MPI ranks), into one report in case order. Until the end it rewrites the
// report every `interval` with the unfinished cases as failed ("not finished"),
// so a run that dies (a killed job, a lost rank) leaves a report saying which
// cases still need a run.
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "batch/BatchPlan.h"
#include "pipeline/DefaceJob.h"

namespace ctd::batch {

class ReportCollector {
 public:
  ReportCollector(const DefaceOptions& opt, const BatchPlan& plan, std::string stem,
                  std::chrono::seconds interval = std::chrono::seconds(10));
  // Writes the first report, every case "not finished": whatever kills the run
  // from here on (a lost MPI rank ends the whole job) leaves a report naming
  // the cases a new run must do.
  void start();
  // `slot` indexes `selected`. Thread-safe.
  void finished(std::size_t slot, CaseReport r);
  RunReport build() const;
  // Writes the report (json + csv) and returns it.
  RunReport save() const;

 private:
  RunReport buildLocked() const;

  const DefaceOptions& opt_;
  const BatchPlan& plan_;
  std::string stem_;
  std::chrono::seconds interval_;
  mutable std::mutex mutex_;
  std::vector<std::optional<CaseReport>> done_;
  std::chrono::steady_clock::time_point last_save_;
};

}  // namespace ctd::batch
