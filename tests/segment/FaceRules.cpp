#include "FaceRules.h"

#include <algorithm>
#include <cmath>

namespace ctd::testing {

void forVoxelsNear(const Volume& v, const Vec3& p, double radius,
                   const std::function<void(std::size_t, std::size_t, std::size_t, std::size_t)>& fn) {
  for (std::size_t k = 0; k < v.nz; ++k) {
    const Vec3 d = p - v.slice_pos[k];
    const double dn = dot(d, v.normal);
    if (std::abs(dn) > radius) continue;
    const double ci = dot(d, v.row_dir) / v.col_spacing, cj = dot(d, v.col_dir) / v.row_spacing;
    const long ri = static_cast<long>(std::ceil(radius / v.col_spacing)) + 1;
    const long rj = static_cast<long>(std::ceil(radius / v.row_spacing)) + 1;
    const long i0 = std::max(0L, static_cast<long>(ci) - ri), i1 = std::min<long>(v.nx - 1, static_cast<long>(ci) + ri);
    const long j0 = std::max(0L, static_cast<long>(cj) - rj), j1 = std::min<long>(v.ny - 1, static_cast<long>(cj) + rj);
    for (long j = j0; j <= j1; ++j)
      for (long i = i0; i <= i1; ++i) {
        const Vec3 w = v.world(static_cast<double>(i), static_cast<double>(j), k);
        if (norm(w - p) <= radius) fn(i, j, k, v.index(i, j, k));
      }
  }
}

bool inFieldOfView(const Volume& v, const Vec3& p) {
  if (v.nz == 0) return false;
  const double lo = dot(v.slice_pos.front(), v.normal), hi = dot(v.slice_pos.back(), v.normal);
  const double w = dot(p, v.normal);
  if (w < lo || w > hi) return false;
  // In-plane position relative to the nearest slice.
  std::size_t best = 0;
  for (std::size_t k = 1; k < v.nz; ++k)
    if (std::abs(dot(p - v.slice_pos[k], v.normal)) < std::abs(dot(p - v.slice_pos[best], v.normal))) best = k;
  const Vec3 d = p - v.slice_pos[best];
  const double i = dot(d, v.row_dir) / v.col_spacing, j = dot(d, v.col_dir) / v.row_spacing;
  return i >= 0 && j >= 0 && i <= v.nx - 1.0 && j <= v.ny - 1.0;
}

NearCount countNear(const Volume& v, const VoxelMask& mask, const Vec3& p, double radius,
                    const std::function<bool(std::size_t)>& is_tissue) {
  NearCount c;
  forVoxelsNear(v, p, radius, [&](std::size_t, std::size_t, std::size_t, std::size_t idx) {
    if (mask.data[idx]) ++c.masked_any;
    if (!is_tissue(idx)) return;
    ++c.tissue;
    if (!mask.data[idx]) ++c.unmasked;
  });
  return c;
}

}  // namespace ctd::testing
