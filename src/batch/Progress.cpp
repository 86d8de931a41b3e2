#include "batch/Progress.h"

#include <unistd.h>

#include <cstdio>

#include "pipeline/Log.h"

namespace ctd::batch {

Progress::Progress(std::size_t total)
    : total_(total),
      terminal_(::isatty(STDERR_FILENO) && log::level() == log::Level::Normal),
      start_(std::chrono::steady_clock::now()) {
  if (terminal_) log::setStatusLine(bar());
}

Progress::~Progress() {
  if (terminal_) log::setStatusLine("");
}

std::string Progress::bar() const {
  constexpr std::size_t kWidth = 30;
  const std::size_t filled = total_ ? done_ * kWidth / total_ : kWidth;
  std::string s = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
  char buf[160];
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t worked = done_ - skipped_;
  const double eta = worked ? elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_) : 0;
  std::snprintf(buf, sizeof buf, "%zu/%zu cases, %zu failed, %zu skipped, %.0f s, ETA %.0f s", done_, total_, failed_,
                skipped_, elapsed, eta);
  return s + buf;
}

void Progress::caseFinished(const CaseReport& c) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  const SeriesStatus result = c.result();
  if (c.skipped) ++skipped_;
  if (result == SeriesStatus::Failed || result == SeriesStatus::Partial) ++failed_;
  if (terminal_) {
    if (result == SeriesStatus::Failed || result == SeriesStatus::Partial)
      log::info(c.name + ": " + toString(result) + ": " + c.error());
    log::setStatusLine(bar());
    return;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, " [%zu/%zu]", done_, total_);
  std::string line = c.name + ": " + toString(c.status());
  if (c.skipped) line += std::string(" (") + toString(result) + " earlier)";
  else line += " (" + std::to_string(c.series.size()) + " series)";
  if (result == SeriesStatus::Failed || result == SeriesStatus::Partial) line += ": " + c.error();
  log::info(line + buf);
}

}  // namespace ctd::batch
