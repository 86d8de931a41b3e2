#pragma once
// Runs a per-file job (GDCM header parsing) over many files in ONE forked
// child, which streams each file's result back through a pipe. Debian's GDCM
// keeps its assertions, and fuzzing keeps finding headers that trip one: in
// the child, such an abort (or crash, or hang) fails the one file that was
// being read, named, and a fresh child goes on with the next file. Results
// arrive in file order, so the file a child died on is always known.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ctd {

struct FileJobResult {
  bool ok = false;
  std::string bytes;   // the job's result when ok
  std::string reason;  // one line, when not ok (the job's error, or how the child died)
};

struct IsolatedPassOptions {
  // A file whose job has not answered by then fails; the child is killed.
  std::chrono::milliseconds per_file_timeout = std::chrono::minutes(5);
  // Words for the reasons: "the header reader crashed on this file (...)".
  std::string job_name = "the header reader";
  // False: run the jobs in this process (ASan builds with other threads, see
  // ForkPolicy.h); a job's exceptions still fail only its file.
  bool isolate = true;
};

// job(file) returns the file's result bytes or throws (std::exception: the
// file fails with its message, minus a leading "<file>: "). visit(index,
// result) is called in file order; it returns false to stop early (the child
// is then killed). Throws ctd::Error only when no child can be started.
void runIsolatedFilePass(const std::vector<std::filesystem::path>& files,
                         const std::function<std::string(const std::filesystem::path&)>& job,
                         const std::function<bool(std::size_t, FileJobResult&&)>& visit,
                         const IsolatedPassOptions& options = {});

// For fuzzing only: libFuzzer sees the coverage of its own process, not of a
// child's. A fuzz target installs these to carry the child's coverage home:
// child_start runs first thing in each child, child_end when it ends (also
// from a crash signal, so must be async-signal-safe), parent_merge after each
// child is reaped. Null members are skipped.
struct IsolatedPassHooks {
  void (*child_start)() = nullptr;
  void (*child_end)() = nullptr;
  void (*parent_merge)() = nullptr;
};
void setIsolatedPassHooks(const IsolatedPassHooks& hooks);

// Files failed because their child died or hung (process-wide count since
// start): the fuzz target tells such handled inputs from clean ones.
std::uint64_t isolatedPassCasualties();

}  // namespace ctd
