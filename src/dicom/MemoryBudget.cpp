#include "dicom/MemoryBudget.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"

namespace ctd {

std::uint64_t parseMemorySize(const std::string& text) {
  const auto refuse = [&] {
    return Error("--max-memory '" + text + "': expected a positive size such as 8G, 512M or 300K");
  };
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw refuse();
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() > 1 && (unit.back() == 'i' || unit.back() == 'I')) unit.pop_back();
  double scale = 1;
  if (unit.size() > 1) throw refuse();
  if (!unit.empty()) {
    switch (std::toupper(static_cast<unsigned char>(unit[0]))) {
      case 'K': scale = 1024.0; break;
      case 'M': scale = 1024.0 * 1024; break;
      case 'G': scale = 1024.0 * 1024 * 1024; break;
      case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
      default: throw refuse();
    }
  }
  const double bytes = value * scale;
  if (!std::isfinite(bytes) || bytes < 1 || bytes > 1e18) throw refuse();
  return static_cast<std::uint64_t>(bytes);
}

std::uint64_t defaultMemoryLimit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t total = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page) : (8ull << 30);
  // cgroup v2, then v1: a container's limit, when lower than the machine's RAM.
  for (const char* f : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(f);
    std::uint64_t limit = 0;
    if (in >> limit && limit > 0) total = std::min(total, limit);
  }
  return total / 2;
}

std::string formatBytes(std::uint64_t bytes) {
  char buf[64];
  if (bytes < 1024) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
  else std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / (1ull << 30));
  return buf;
}

std::uint64_t estimateSeriesBytes(const CaseInventory& inv, const SeriesStack& stack) {
  if (stack.slices.empty()) return 0;
  const DicomInstance& first = inv.instances.at(stack.slices.front().instance);
  return std::uint64_t(first.columns) * first.rows * stack.slices.size() * kBytesPerVoxel;
}

void checkSeriesMemory(const CaseInventory& inv, const SeriesStack& stack, std::uint64_t limit) {
  // A file that cannot hold what its header declares (65535 x 65535 in a few
  // kilobytes) is reported as that, naming the file, before any budget.
  for (const auto& s : stack.slices) checkPixelHeader(inv.instances.at(s.instance));
  const std::uint64_t need = estimateSeriesBytes(inv, stack);
  if (need <= limit) return;
  const DicomInstance& first = inv.instances.at(stack.slices.front().instance);
  throw Error(first.path.parent_path(),
              "series " + stack.name + " (" + std::to_string(first.columns) + " x " + std::to_string(first.rows) +
                  " x " + std::to_string(stack.slices.size()) + " voxels) needs about " + formatBytes(need) +
                  " to deface, above --max-memory " + formatBytes(limit) + ": refused before reading its pixels");
}

}  // namespace ctd
