#pragma once
// Test helper: runs a program as a child process with a deadline and optional
// resource limits, and reports how it ended (exit code or signal), its output
// and its peak memory. popen cannot do the limits, the kill on a hang or the
// rusage of the child, which the bad-input suite asserts.
#include <cstdint>
#include <string>
#include <vector>

namespace ctd::test {

struct ChildLimits {
  double timeout_seconds = 120;
  std::uint64_t max_file_bytes = 0;  // RLIMIT_FSIZE (0: unlimited)
};

struct ChildResult {
  int exit_code = -1;      // when the child exited
  int signal = 0;          // when a signal ended it
  bool timed_out = false;  // killed at the deadline
  std::string output;      // stdout and stderr, interleaved
  long max_rss_kib = 0;    // peak resident set of the child
  bool exitedNormally() const { return !timed_out && signal == 0 && exit_code >= 0; }
  std::string describe() const;
};

ChildResult runChild(const std::vector<std::string>& argv, const ChildLimits& limits = {});

}  // namespace ctd::test
