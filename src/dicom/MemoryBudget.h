#pragma once
// --max-memory: how much memory defacing one CT series may take, and the
// estimate of what a series needs, from its headers alone (before any pixel
// is read), so that a series too large for the machine is refused with its
// figures instead of swapping or being killed by the kernel.
#include <cstdint>
#include <string>

#include "dicom/CaseInventory.h"

namespace ctd {

// Bytes per voxel while a series is defaced: the float HU volume (4), the face
// mask (1) and the working copies around them (the segmenter's coarse grid,
// the per-file decode and rewrite buffers, the allocator's slack). The last
// session measured a peak RSS of 3.7 x the 2-byte pixels, 7.4 bytes a voxel,
// on 512 x 512 x 300 (bench/run_deface_bench.sh); 8 covers it.
constexpr std::uint64_t kBytesPerVoxel = 8;

// "8G", "512M", "300k", "1.5G", "2000000" (bytes); binary units (1K = 1024).
// Throws ctd::Error for anything else, zero or negative.
std::uint64_t parseMemorySize(const std::string& text);

// The default limit: half of the memory this process may use, that is the
// smaller of physical RAM and the cgroup (container) limit.
std::uint64_t defaultMemoryLimit();

// "1.5 GiB", "12.0 MiB", "512 B".
std::string formatBytes(std::uint64_t bytes);

// Voxels of the stack (columns x rows x slices, from the headers) times kBytesPerVoxel.
std::uint64_t estimateSeriesBytes(const CaseInventory& inv, const SeriesStack& stack);

// Throws ctd::Error naming the series, its size and both figures when its
// estimate exceeds `limit` (after checkPixelHeader on each of its files).
void checkSeriesMemory(const CaseInventory& inv, const SeriesStack& stack, std::uint64_t limit);

}  // namespace ctd
