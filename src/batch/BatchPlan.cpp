#include "batch/BatchPlan.h"

#include <thread>

#include "batch/CaseRunner.h"
#include "pipeline/Log.h"

namespace ctd::batch {

void runCaseWorkers(const BatchPlan& plan, const DefaceOptions& case_opt, int jobs, const NextSlot& next_slot,
                    const CaseDone& done) {
  auto worker = [&] {
    std::unique_ptr<CaseRunner> runner;
    std::string runner_error;
    try {
      runner = std::make_unique<CaseRunner>(case_opt, plan.discovery.single_case);
    } catch (const std::exception& e) {
      runner_error = e.what();  // every case this worker takes then fails with it
    }
    for (std::size_t slot; next_slot(slot);) {
      const CaseInput& c = plan.discovery.cases[plan.selected[slot]];
      CaseReport r;
      try {
        if (!runner) throw std::runtime_error(runner_error);
        r = runner->run(c, plan.case_skipped[plan.selected[slot]]);
      } catch (const std::exception& e) {
        r = CaseReport{};
        r.name = caseLabel(c);
        r.errors.push_back(e.what());
        log::error(r.name + ": " + e.what());
      }
      done(slot, std::move(r));
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
}

}  // namespace ctd::batch
