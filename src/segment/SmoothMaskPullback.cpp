#include "segment/SmoothMaskPullback.h"

#include <algorithm>
#include <cmath>

#include "volume/SliceThreads.h"

namespace ctd {

namespace {

// Voxel box [lo, hi] of the mask's ones, grown by `grow` and kept in the grid;
// empty (lo > hi) when there are none.
struct Box {
  std::size_t lo[3] = {1, 1, 1}, hi[3] = {0, 0, 0};
  bool empty() const { return lo[0] > hi[0]; }
};

Box boxOf(const coarse::Bits& m, const coarse::Grid& g, std::size_t grow) {
  Box b;
  b.lo[0] = g.nx, b.lo[1] = g.ny, b.lo[2] = g.nz;
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j) {
      const std::uint8_t* row = &m[g.index(0, j, k)];
      const std::uint8_t* first = std::find(row, row + g.nx, std::uint8_t{1});
      if (first == row + g.nx) continue;
      std::size_t last = g.nx - 1;
      while (!row[last]) --last;
      b.lo[0] = std::min(b.lo[0], static_cast<std::size_t>(first - row)), b.hi[0] = std::max(b.hi[0], last);
      b.lo[1] = std::min(b.lo[1], j), b.hi[1] = std::max(b.hi[1], j);
      b.lo[2] = std::min(b.lo[2], k), b.hi[2] = std::max(b.hi[2], k);
    }
  if (b.lo[2] == g.nz) return Box{};
  const std::size_t n[3] = {g.nx, g.ny, g.nz};
  for (int d = 0; d < 3; ++d)
    b.lo[d] = b.lo[d] > grow ? b.lo[d] - grow : 0, b.hi[d] = std::min(b.hi[d] + grow, n[d] - 1);
  return b;
}

}  // namespace

SoftMask softenMask(const coarse::Bits& m, const coarse::Grid& g) {
  SoftMask f;
  // Each pass spreads the field one voxel along its axis: outside the ones'
  // box grown by one it stays 0, so only that box is held.
  const Box box = boxOf(m, g, 1);
  if (box.empty()) return f;
  const std::size_t full[3] = {g.nx, g.ny, g.nz};
  for (int d = 0; d < 3; ++d) f.offset[d] = box.lo[d];
  f.grid = coarse::Grid{box.hi[0] - box.lo[0] + 1, box.hi[1] - box.lo[1] + 1, box.hi[2] - box.lo[2] + 1, g.spacing};
  const coarse::Grid& b = f.grid;
  std::vector<float> a(b.size()), t(b.size());
  for (std::size_t k = 0; k < b.nz; ++k)
    for (std::size_t j = 0; j < b.ny; ++j)
      for (std::size_t i = 0; i < b.nx; ++i)
        a[b.index(i, j, k)] = m[g.index(i + box.lo[0], j + box.lo[1], k + box.lo[2])];
  const std::size_t strides[3] = {1, b.nx, b.nx * b.ny};
  const std::size_t dims[3] = {b.nx, b.ny, b.nz};
  for (int axis = 0; axis < 3; ++axis) {
    const std::size_t s = strides[axis], len = dims[axis];
    // The grid's outermost voxels are padding outside the series: repeat the
    // edge value there rather than pull it towards zero. At the box's own
    // edge (inside the grid) the voxel beyond is 0.
    const bool at_grid_lo = box.lo[axis] == 0, at_grid_hi = box.hi[axis] + 1 == full[axis];
    for (std::size_t k = 0; k < b.nz; ++k)
      for (std::size_t j = 0; j < b.ny; ++j)
        for (std::size_t i = 0; i < b.nx; ++i) {
          const std::size_t idx = b.index(i, j, k), pos = axis == 0 ? i : axis == 1 ? j : k;
          const float lo = pos > 0 ? a[idx - s] : at_grid_lo ? a[idx] : 0.0f;
          const float hi = pos + 1 < len ? a[idx + s] : at_grid_hi ? a[idx] : 0.0f;
          t[idx] = 0.25f * lo + 0.5f * a[idx] + 0.25f * hi;
        }
    a.swap(t);
  }
  f.values = std::move(a);
  return f;
}

VoxelMask smoothMaskToNative(const coarse::Bits& coarse_mask, const coarse::Grid& g, const Vec3& origin,
                             const Volume& native) {
  VoxelMask out = VoxelMask::like(native);
  const SoftMask soft = softenMask(coarse_mask, g);
  const coarse::Grid& b = soft.grid;  // coordinates below are in this box
  // Box of where the field reaches 1/2: only native voxels that fall in it
  // (grown by one) are sampled, and only ones are written, so the untouched
  // pages of `out` stay unallocated (VoxelMask).
  std::size_t lo[3] = {b.nx, b.ny, b.nz}, hi[3] = {0, 0, 0};
  for (std::size_t k = 0; k < b.nz; ++k)
    for (std::size_t j = 0; j < b.ny; ++j)
      for (std::size_t i = 0; i < b.nx; ++i) {
        if (soft.values[b.index(i, j, k)] < 0.5f) continue;
        const std::size_t p[3] = {i, j, k};
        for (int d = 0; d < 3; ++d) lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
      }
  if (lo[2] == b.nz) return out;
  const double c = g.spacing;
  // The field is 1/2 at most one voxel beyond the last voxel that reaches it
  // (still inside the box, which holds a voxel beyond every one of the mask).
  const double blo[3] = {static_cast<double>(lo[0]) - 1, static_cast<double>(lo[1]) - 1,
                         static_cast<double>(lo[2]) - 1};
  const double bhi[3] = {static_cast<double>(hi[0]) + 1, static_cast<double>(hi[1]) + 1,
                         static_cast<double>(hi[2]) + 1};
  // Only native voxels in cells the half level crosses need the interpolation.
  const coarse::CellLevels cells = coarse::classifyCells(soft.values, b, 0.5f);
  const Vec3 box_origin =
      origin + Vec3{c * static_cast<double>(soft.offset[0]), c * static_cast<double>(soft.offset[1]),
                    c * static_cast<double>(soft.offset[2])};
  const Vec3 step_i = (native.col_spacing / c) * native.row_dir, step_j = (native.row_spacing / c) * native.col_dir;
  // Native voxels just beyond the grid (less than a voxel) take its edge.
  const auto edge = [&](double f, std::size_t n) { return std::clamp(f, 0.0, static_cast<double>(n) - 1.0); };
  forEachSlice(native.nz, native.nx * native.ny, [&](std::size_t k) {
    const Vec3 p0 = (1.0 / c) * (native.slice_pos[k] - box_origin);
    for (std::size_t j = 0; j < native.ny; ++j) {
      std::uint8_t* row = &out.data[(k * native.ny + j) * native.nx];
      const Vec3 pj = p0 + static_cast<double>(j) * step_j;
      // The columns whose position can fall in the box (a voxel more on each
      // side against rounding; the test below stays exact).
      double i_lo = 0, i_hi = static_cast<double>(native.nx) - 1;
      for (int d = 0; d < 3; ++d) {
        if (std::abs(step_i[d]) < 1e-12) {
          if (pj[d] < blo[d] || pj[d] > bhi[d]) i_hi = -1;
          continue;
        }
        const double a = (blo[d] - pj[d]) / step_i[d], e = (bhi[d] - pj[d]) / step_i[d];
        i_lo = std::max(i_lo, std::min(a, e) - 1), i_hi = std::min(i_hi, std::max(a, e) + 1);
      }
      if (i_hi < i_lo) continue;
      for (auto i = static_cast<std::size_t>(i_lo); i <= static_cast<std::size_t>(i_hi); ++i) {
        const Vec3 q = pj + static_cast<double>(i) * step_i;
        if (q[0] < blo[0] || q[1] < blo[1] || q[2] < blo[2] || q[0] > bhi[0] || q[1] > bhi[1] || q[2] > bhi[2])
          continue;
        const double fx = edge(q[0], b.nx), fy = edge(q[1], b.ny), fz = edge(q[2], b.nz);
        const std::uint8_t kd = cells.at(fx, fy, fz);
        if (kd == 1 ||
            (kd == 2 && coarse::sampleField(soft.values, b, Vec3{0, 0, 0}, Vec3{fx * c, fy * c, fz * c}, 0.0f) >= 0.5f))
          row[i] = 1;
      }
    }
  });
  return out;
}

}  // namespace ctd
