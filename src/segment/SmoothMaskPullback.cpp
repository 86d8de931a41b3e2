#include "segment/SmoothMaskPullback.h"

#include <algorithm>
#include <cmath>

#include "volume/SliceThreads.h"

namespace ctd {

std::vector<float> softenMask(const coarse::Bits& m, const coarse::Grid& g) {
  std::vector<float> a(m.begin(), m.end()), b(a.size());
  const std::size_t strides[3] = {1, g.nx, g.nx * g.ny};
  const std::size_t dims[3] = {g.nx, g.ny, g.nz};
  for (int axis = 0; axis < 3; ++axis) {
    const std::size_t s = strides[axis], len = dims[axis];
    for (std::size_t idx = 0; idx < a.size(); ++idx) {
      const std::size_t pos = (idx / s) % len;
      // The grid's outermost voxels are padding outside the series: repeat the
      // edge value there rather than pull it towards zero.
      const float lo = pos > 0 ? a[idx - s] : a[idx];
      const float hi = pos + 1 < len ? a[idx + s] : a[idx];
      b[idx] = 0.25f * lo + 0.5f * a[idx] + 0.25f * hi;
    }
    a.swap(b);
  }
  return a;
}

VoxelMask smoothMaskToNative(const coarse::Bits& coarse_mask, const coarse::Grid& g, const Vec3& origin,
                             const Volume& native) {
  VoxelMask out = VoxelMask::like(native);
  const std::vector<float> soft = softenMask(coarse_mask, g);
  // Bounding box (in coarse voxels) of where the field can reach 1/2: only
  // native voxels that fall in it are sampled, and only ones are written, so
  // the untouched pages of `out` stay unallocated (VoxelMask).
  std::size_t lo[3] = {g.nx, g.ny, g.nz}, hi[3] = {0, 0, 0};
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        if (soft[g.index(i, j, k)] < 0.5f) continue;
        const std::size_t p[3] = {i, j, k};
        for (int d = 0; d < 3; ++d) lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
      }
  if (lo[2] == g.nz) return out;
  const double c = g.spacing;
  // The field is 1/2 at most one voxel beyond the last voxel that reaches it.
  const double blo[3] = {static_cast<double>(lo[0]) - 1, static_cast<double>(lo[1]) - 1,
                         static_cast<double>(lo[2]) - 1};
  const double bhi[3] = {static_cast<double>(hi[0]) + 1, static_cast<double>(hi[1]) + 1,
                         static_cast<double>(hi[2]) + 1};
  const Vec3 step_i = (native.col_spacing / c) * native.row_dir, step_j = (native.row_spacing / c) * native.col_dir;
  const auto edge = [&](double f, std::size_t n) { return std::clamp(f, 0.0, static_cast<double>(n) - 1.0); };
  forEachSlice(native.nz, native.nx * native.ny, [&](std::size_t k) {
    const Vec3 p0 = (1.0 / c) * (native.slice_pos[k] - origin);
    for (std::size_t j = 0; j < native.ny; ++j) {
      std::uint8_t* row = &out.data[(k * native.ny + j) * native.nx];
      const Vec3 pj = p0 + static_cast<double>(j) * step_j;
      for (std::size_t i = 0; i < native.nx; ++i) {
        const Vec3 q = pj + static_cast<double>(i) * step_i;
        if (q[0] < blo[0] || q[1] < blo[1] || q[2] < blo[2] || q[0] > bhi[0] || q[1] > bhi[1] || q[2] > bhi[2])
          continue;
        // Native voxels just beyond the grid (less than a voxel) take its edge.
        const double fx = edge(q[0], g.nx), fy = edge(q[1], g.ny), fz = edge(q[2], g.nz);
        if (coarse::sampleField(soft, g, Vec3{0, 0, 0}, Vec3{fx * c, fy * c, fz * c}, 0.0f) >= 0.5f) row[i] = 1;
      }
    }
  });
  return out;
}

}  // namespace ctd
