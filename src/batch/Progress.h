#pragma once
// Batch progress: on a terminal (stderr is a tty, not --quiet/--verbose) a bar
// kept on the bottom line; otherwise one plain log line per finished case.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "pipeline/Report.h"

namespace ctd::batch {

class Progress {
 public:
  explicit Progress(std::size_t total);
  ~Progress();
  void caseFinished(const CaseReport& c);

 private:
  std::string bar() const;

  std::mutex mutex_;
  std::size_t total_, done_ = 0, failed_ = 0, skipped_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ctd::batch
