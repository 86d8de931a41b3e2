#include "batch/CaseRunner.h"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <ctime>

#include "batch/CaseWork.h"
#include "batch/ThreadBudget.h"
#include "core/AtomicFile.h"
#include "core/TestKillPoint.h"
#include "pipeline/Log.h"
#include "pipeline/Version.h"

namespace fs = std::filesystem;

namespace ctd::batch {
namespace {

std::string hostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// A staging folder or a temporary of an interrupted write directly in `dir`.
void removeStaleTemporaries(const fs::path& dir, bool nifti) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const bool staging = name.rfind(".ctdeface-staging-", 0) == 0;
    const bool nifti_tmp = nifti && (name.ends_with(".partial") || name.ends_with(".tmp.nii"));
    if (staging || nifti_tmp) fs::remove_all(e.path(), ec);
  }
}

}  // namespace

fs::path CaseRunner::workRoot(const DefaceOptions& opt) {
  return opt.work_root.empty() ? opt.output / ".ctdeface-work" : opt.work_root;
}

CaseRunner::CaseRunner(const DefaceOptions& opt, bool single_case)
    : opt_(opt),
      single_case_(single_case),
      options_(outputAffectingOptions(opt)),
      store_(opt.output, opt.nifti_out),
      segmenter_(makeSegmenter(opt)) {}

CaseReport CaseRunner::skipped(const CaseState& old) const {
  CaseReport r = old.report;
  r.skipped = true;
  r.outputs.clear();
  for (auto& row : r.series) row.status = SeriesStatus::Skipped;  // row.result keeps what the output holds
  return r;
}

void CaseRunner::clearLeftovers(const CaseInput& c, const std::optional<CaseState>& old) const {
  removeStaleTemporaries(caseOutputRoot(c, single_case_, opt_), false);
  if (!opt_.nifti_out.empty()) removeStaleTemporaries(opt_.nifti_out / caseLabel(c), true);
  store_.removeTemporaries(caseLabel(c));
  // Outputs of the earlier run: a series that fails now must not leave its old files behind.
  if (old) {
    std::error_code ec;
    for (const auto& o : old->outputs) fs::remove(store_.absolute(o), ec);
  }
}

CaseReport CaseRunner::run(const CaseInput& c, const std::vector<SetAside>& walk_skipped) {
  applyCaseThreads(opt_.threads);
  const std::string name = caseLabel(c);
  const std::optional<CaseState> old = store_.load(name);
  if (old && !opt_.force) {
    const std::string why = store_.whyRedo(*old, c, options_);
    if (why.empty()) {
      if (!opt_.keep_work) CaseWork::discard(workRoot(opt_), name);
      log::detail(name + ": finished earlier, skipped");
      return skipped(*old);
    }
    log::detail(name + ": redone (" + why + ")");
  }
  clearLeftovers(c, old);
  // From here until the new record, the case has no record: an interrupted redo is never taken as done.
  if (old) {
    std::error_code ec;
    fs::remove(store_.fileFor(name), ec);
  }

  const auto t0 = std::chrono::steady_clock::now();
  CaseState state;
  state.case_name = name;
  state.tool_version = kVersion;
  state.options = options_;
  try {
    const auto th = std::chrono::steady_clock::now();
    state.inputs = stampInputs(c);
    log::detail(name + ": inputs hashed in " +
                std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - th).count()) + " s");
  } catch (const std::exception& e) {
    CaseReport r;
    r.name = name;
    r.errors.push_back(std::string("cannot read the inputs: ") + e.what());
    log::error(name + ": " + r.errors.back());
    return r;  // no state record: the case is tried again next time
  }

  std::optional<CaseWork> work;
  CaseReport report;
  try {
    work.emplace(workRoot(opt_), name);
    nlohmann::ordered_json progress;
    progress["case"] = name;
    progress["host"] = hostName();
    progress["pid"] = ::getpid();
    progress["started"] = static_cast<long long>(std::time(nullptr));
    progress["inputs"] = nlohmann::ordered_json::array();
    for (const auto& f : state.inputs) progress["inputs"].push_back(nlohmann::ordered_json(toJson(f)));
    writeFileAtomically(work->dir() / "case.json", progress.dump(1) + "\n");
    log::ThreadLogFile case_log(work->dir() / "case.log");
    report = defaceCase(c, single_case_, opt_, *segmenter_, work->dir(), walk_skipped);
  } catch (const std::exception& e) {
    report.name = name;
    report.errors.push_back(e.what());
    log::error(name + ": " + e.what());
  }
  testKillPoint("case-outputs");

  // An input that changed while the case ran makes its outputs untrustworthy.
  for (const auto& before : state.inputs) {
    FileStamp now;
    try {
      now = stampFile(c.root / before.path, before.path, false);
    } catch (const std::exception&) {
    }
    if (now.size != before.size || now.mtime_ns != before.mtime_ns) {
      report.errors.push_back("input changed while the case ran: " + (c.root / before.path).string());
      break;
    }
  }
  try {
    state.outputs = store_.stampOutputs(report.outputs);
    state.report = report;
    state.report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.seconds = state.report.seconds;
    store_.save(state);
  } catch (const std::exception& e) {
    report.errors.push_back(std::string("cannot record the case's state: ") + e.what());
    log::error(name + ": " + report.errors.back());
  }
  testKillPoint("case-done");
  const SeriesStatus result = report.result();
  if (work) work->finish(result != SeriesStatus::Failed && result != SeriesStatus::Partial, opt_.keep_work);
  return report;
}

}  // namespace ctd::batch
