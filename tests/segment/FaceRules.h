#pragma once
// The removal rules every segmentation must satisfy, checked voxel by voxel.
#include <functional>
#include <string>
#include <vector>

#include "core/Vec3.h"
#include "volume/Volume.h"

namespace ctd::testing {

// Voxels of `v` within `radius` mm of `p` (world positions from the exact
// per-slice geometry). `fn(i, j, k, index)` is called for each.
void forVoxelsNear(const Volume& v, const Vec3& p, double radius,
                   const std::function<void(std::size_t, std::size_t, std::size_t, std::size_t)>& fn);

// True when `p` lies inside the volume's field of view (between the first and
// last slice planes and inside the image rectangle).
bool inFieldOfView(const Volume& v, const Vec3& p);

struct NearCount {
  std::size_t tissue = 0;     // voxels within the radius that `is_tissue` accepts
  std::size_t unmasked = 0;   // ... of which not masked
  std::size_t masked_any = 0; // voxels within the radius that are masked (tissue or not)
};
NearCount countNear(const Volume& v, const VoxelMask& mask, const Vec3& p, double radius,
                    const std::function<bool(std::size_t)>& is_tissue);

}  // namespace ctd::testing
