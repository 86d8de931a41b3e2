#include "volume/UnbackedZeros.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ctd {

void resizeZeroedUnbacked(std::vector<std::uint8_t>& v, std::size_t n) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  v.clear();
  if (n < 4 * kChunk) {
    v.assign(n, 0);
    return;
  }
  v.shrink_to_fit();
  v.reserve(n);  // no reallocation below: released pages stay part of `v`
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto pageUp = [&](const std::uint8_t* p) { return (reinterpret_cast<std::uintptr_t>(p) + page - 1) & ~(page - 1); };
  const auto pageDown = [&](const std::uint8_t* p) { return reinterpret_cast<std::uintptr_t>(p) & ~(page - 1); };
  // Small pages: a write into a mostly-zero buffer should back 4 KiB, not a
  // 2 MiB transparent huge page (where THP is "always").
  if (pageDown(v.data() + n) > pageUp(v.data()))
    ::madvise(reinterpret_cast<void*>(pageUp(v.data())), pageDown(v.data() + n) - pageUp(v.data()), MADV_NOHUGEPAGE);
  while (v.size() < n) {
    const std::size_t from = v.size();
    v.resize(std::min(n, from + kChunk));
    const std::uintptr_t lo = pageUp(v.data() + from), hi = pageDown(v.data() + v.size());
    // Advice only: if the kernel refuses, the pages simply stay resident (and zero).
    if (hi > lo) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  }
#ifdef MADV_POPULATE_READ
  // Map the kernel's shared zero page everywhere in one call (Linux >= 5.14;
  // refused before): a full scan of the mask (count, the row spans) then
  // takes no page fault per 4 KiB, and the zero page is not resident memory.
  if (pageDown(v.data() + n) > pageUp(v.data()))
    ::madvise(reinterpret_cast<void*>(pageUp(v.data())), pageDown(v.data() + n) - pageUp(v.data()), MADV_POPULATE_READ);
#endif
}

std::size_t countNonZero(const std::uint8_t* p, std::size_t n) {
  std::size_t c = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word == 0) continue;
    for (std::size_t b = 0; b < 8; ++b) c += p[i + b] != 0;
  }
  for (; i < n; ++i) c += p[i] != 0;
  return c;
}

std::size_t findNonZero(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, p + i, 8);
    if (word != 0) break;
  }
  for (; i < n; ++i)
    if (p[i] != 0) return i;
  return n;
}

}  // namespace ctd
