// A large VoxelMask is all zero but costs resident memory only where it is set:
// the native face mask must not add its full size to the run's peak RSS.
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <string>

#include "volume/UnbackedZeros.h"
#include "volume/Volume.h"

namespace {

long residentKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(UnbackedZeros, LargeMaskIsZeroAndMostlyNotResident) {
  const long before = residentKb();
  ASSERT_GT(before, 0);
  ctd::VoxelMask m(512, 512, 256);  // 64 MiB
  ASSERT_EQ(m.data.size(), std::size_t{512} * 512 * 256);
  const long after_alloc = residentKb();
  // One slice's worth of writes: only those pages become resident.
  for (std::size_t i = 0; i < 512 * 512; ++i) m.data[m.index(i % 512, i / 512, 100)] = 1;
  const long after_write = residentKb();
  EXPECT_EQ(m.count(), std::size_t{512} * 512);  // reads every page: zero everywhere else
  EXPECT_EQ(std::accumulate(m.data.begin(), m.data.end(), std::size_t{0}), std::size_t{512} * 512);
  // A plain std::vector would add 65536 KiB here; the chunked fill keeps about one chunk.
  EXPECT_LT(after_alloc - before, 16 * 1024) << "KiB resident after allocating a 64 MiB mask";
  EXPECT_LT(after_write - before, 16 * 1024 + 512) << "KiB resident after setting one 256 KiB slice";
}

TEST(UnbackedZeros, ReusedBufferComesBackZero) {
  // Memory that held other values (a reused heap block) still reads as zero.
  for (std::size_t n : {std::size_t{100}, std::size_t{3} << 20, (std::size_t{9} << 20) + 12345}) {
    std::vector<std::uint8_t> v(n + 4096, 7);
    ctd::resizeZeroedUnbacked(v, n);
    ASSERT_EQ(v.size(), n);
    EXPECT_EQ(std::count(v.begin(), v.end(), std::uint8_t{0}), static_cast<std::ptrdiff_t>(n)) << n;
    v.back() = 5;  // still writable at the end
    EXPECT_EQ(v.back(), 5);
  }
}

TEST(UnbackedZeros, SmallMaskIsPlainZeros) {
  const ctd::VoxelMask m(7, 5, 3);
  EXPECT_EQ(m.data.size(), 105u);
  EXPECT_EQ(m.count(), 0u);
}

}  // namespace
