#include "batch/Shard.h"

#include <cstdint>
#include <cstdlib>

#include "core/Error.h"

namespace ctd::batch {

bool Shard::holds(const std::string& case_name) const {
  if (!active()) return true;
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : case_name) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int>(h % static_cast<std::uint64_t>(count)) + 1 == index;
}

std::string Shard::reportStem() const {
  if (!active()) return "ctdeface-report";
  return "ctdeface-report.shard-" + std::to_string(index) + "-of-" + std::to_string(count);
}

Shard parseShard(const std::string& text) {
  const auto slash = text.find('/');
  char* end1 = nullptr;
  char* end2 = nullptr;
  Shard s;
  if (slash != std::string::npos) {
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    s.index = static_cast<int>(std::strtol(a.c_str(), &end1, 10));
    s.count = static_cast<int>(std::strtol(b.c_str(), &end2, 10));
    if (!a.empty() && !b.empty() && *end1 == 0 && *end2 == 0 && s.count >= 1 && s.index >= 1 && s.index <= s.count)
      return s;
  }
  throw Error("--shard '" + text + "': expected I/N with 1 <= I <= N (e.g. --shard 2/8)");
}

}  // namespace ctd::batch
