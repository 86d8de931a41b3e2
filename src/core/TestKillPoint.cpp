#include "core/TestKillPoint.h"

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <string>

namespace ctd {
namespace {

struct KillSpec {
  std::string event;
  long at = 0;  // 0: off
  long seen = 0;
  std::mutex mutex;
  KillSpec() {
    if (const char* v = std::getenv("CTDEFACE_TEST_KILL_AT")) {
      const std::string s = v;
      const auto colon = s.rfind(':');
      if (colon != std::string::npos) {
        event = s.substr(0, colon);
        at = std::strtol(s.c_str() + colon + 1, nullptr, 10);
      }
    }
  }
};

KillSpec& spec() {
  static KillSpec s;
  return s;
}

}  // namespace

void testKillPoint(const char* event) {
  KillSpec& k = spec();
  if (k.at <= 0 || k.event != event) return;
  std::lock_guard<std::mutex> lock(k.mutex);
  if (++k.seen == k.at) std::raise(SIGKILL);
}

}  // namespace ctd
