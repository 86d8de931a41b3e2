#include "volume/StackGeometry.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ctd {

namespace {

// Below this angle a stack counts as unsheared: the IPP values scanners write
// are rounded to ~0.01 mm, which alone tilts a 5 mm step by up to ~0.1 degree.
constexpr double kShearToleranceDeg = 0.1;

Vec3 meanSliceStep(const Volume& v) {
  if (v.nz < 2) return v.normal;  // one slice: no step; the normal keeps the affine invertible
  return (1.0 / static_cast<double>(v.nz - 1)) * (v.slice_pos.back() - v.slice_pos.front());
}

}  // namespace

StackGeometry analyzeStack(const Volume& v, double rel_tol) {
  StackGeometry g;
  g.offsets.reserve(v.slice_pos.size());
  for (const Vec3& p : v.slice_pos) g.offsets.push_back(dot(p, v.normal));
  for (std::size_t k = 1; k < g.offsets.size(); ++k) g.gaps.push_back(g.offsets[k] - g.offsets[k - 1]);
  if (g.gaps.empty()) return g;

  g.min_gap = *std::min_element(g.gaps.begin(), g.gaps.end());
  g.max_gap = *std::max_element(g.gaps.begin(), g.gaps.end());
  std::vector<double> sorted = g.gaps;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  g.median_gap = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  const double tol = rel_tol * std::abs(g.median_gap);
  g.uniform = std::all_of(g.gaps.begin(), g.gaps.end(),
                          [&](double gap) { return std::abs(gap - g.median_gap) <= tol; });

  // The mean step (first to last IPP) averages out per-slice rounding of IPP.
  const Vec3 step = meanSliceStep(v);
  const double len = norm(step);
  if (len > 0) {
    const double c = std::clamp(std::abs(dot(step, v.normal)) / len, 0.0, 1.0);
    g.tilt_deg = std::acos(c) * 180.0 / std::numbers::pi;
  }
  g.sheared = g.tilt_deg > kShearToleranceDeg;
  return g;
}

std::array<double, 16> voxelToLpsAffine(const Volume& v) {
  const Vec3 x = v.col_spacing * v.row_dir;
  const Vec3 y = v.row_spacing * v.col_dir;
  const Vec3 z = meanSliceStep(v);
  const Vec3 o = v.slice_pos.empty() ? Vec3{0, 0, 0} : v.slice_pos.front();
  return {x[0], y[0], z[0], o[0],  //
          x[1], y[1], z[1], o[1],  //
          x[2], y[2], z[2], o[2],  //
          0,    0,    0,    1};
}

}  // namespace ctd
