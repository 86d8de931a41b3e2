#include "batch/ReportCollector.h"

#include "pipeline/Log.h"
#include "pipeline/Version.h"

namespace ctd::batch {

ReportCollector::ReportCollector(const DefaceOptions& opt, const BatchPlan& plan, std::string stem,
                                 std::chrono::seconds interval)
    : opt_(opt),
      plan_(plan),
      stem_(std::move(stem)),
      interval_(interval),
      done_(plan.selected.size()),
      last_save_(std::chrono::steady_clock::now()) {}

void ReportCollector::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  last_save_ = std::chrono::steady_clock::now();
  buildLocked().save(opt_.output, stem_);
}

void ReportCollector::finished(std::size_t slot, CaseReport r) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_.at(slot) = std::move(r);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_save_ < interval_) return;
  last_save_ = now;
  try {
    buildLocked().save(opt_.output, stem_);
  } catch (const std::exception& e) {
    log::warn(std::string("cannot write the interim report: ") + e.what());
  }
}

RunReport ReportCollector::buildLocked() const {
  RunReport report;
  report.tool_version = kVersion;
  report.input = opt_.input;
  report.output = opt_.output;
  for (const auto& s : plan_.outside_cases) report.other_files.push_back({"", s.path, s.reason, false});
  for (std::size_t i = 0; i < plan_.selected.size(); ++i) {
    if (done_[i]) {
      report.add(*done_[i]);
      continue;
    }
    CaseReport missing;
    missing.name = caseLabel(plan_.discovery.cases[plan_.selected[i]]);
    missing.errors.push_back("not finished (the run was interrupted or its worker died); run the command again");
    report.add(missing);
  }
  return report;
}

RunReport ReportCollector::build() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buildLocked();
}

RunReport ReportCollector::save() const {
  std::lock_guard<std::mutex> lock(mutex_);
  RunReport r = buildLocked();
  r.save(opt_.output, stem_);
  return r;
}

}  // namespace ctd::batch
