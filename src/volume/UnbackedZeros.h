#pragma once
// Large zero-filled byte buffers whose zero pages are not kept resident. A
// native face mask is one byte per voxel (75 MiB on a 512 x 512 x 300 series)
// but only the face's rows are ever set: pages that stay zero should count
// neither in peak RSS nor in the time to fault in fresh memory (slow on VMs).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctd {

// Makes `v` hold `n` zero bytes. std::vector zero-fills what it allocates,
// touching every page; above a few MiB `v` instead grows a chunk at a time
// inside one reservation, and each zeroed chunk's whole pages go back to the
// kernel (an anonymous page given back with MADV_DONTNEED reads as zero
// again), so only pages written later become resident. The chunk's own pages
// are reused from one chunk to the next: the peak stays one chunk.
void resizeZeroedUnbacked(std::vector<std::uint8_t>& v, std::size_t n);

// Number of non-zero bytes in [p, p + n). A face mask is mostly zero: it
// skips zero runs eight bytes at a time (a byte loop is not vectorised at -O2).
std::size_t countNonZero(const std::uint8_t* p, std::size_t n);

// Index of the first non-zero byte in [p, p + n), n if there is none.
std::size_t findNonZero(const std::uint8_t* p, std::size_t n);

}  // namespace ctd
