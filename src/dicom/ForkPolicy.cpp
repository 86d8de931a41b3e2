#include "dicom/ForkPolicy.h"

#include <atomic>
#include <fstream>
#include <string>

#if defined(__SANITIZE_ADDRESS__)
#define CTD_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTD_UNDER_ASAN 1
#endif
#endif

namespace ctd {
namespace {
std::atomic<bool> g_always_isolate{false};
}  // namespace

void alwaysIsolateGdcm(bool on) { g_always_isolate.store(on, std::memory_order_relaxed); }

bool gdcmIsolationIsForkSafe() {
  if (g_always_isolate.load(std::memory_order_relaxed)) return true;
#ifdef CTD_UNDER_ASAN
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8)) == 1;
  return false;
#else
  return true;
#endif
}

}  // namespace ctd
