#include "volume/GridResampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Error.h"
#include "volume/SliceBilinear.h"
#include "volume/SliceThreads.h"
#include "volume/StackGeometry.h"
#include "volume/UnbackedZeros.h"

namespace ctd {

namespace {

// Fractional index slack: positions computed through dot products land 1e-12
// off the exact voxel centre; without slack the edge row would read as outside.
constexpr double kIndexEps = 1e-6;
// Positions along the normal (mm) closer than this to a slice are on it.
constexpr double kOffsetEps = 1e-6;

std::size_t countCovering(double extent, double step) {
  if (extent <= 0 || step <= 0) return 1;
  return static_cast<std::size_t>(std::ceil(extent / step - kIndexEps)) + 1;
}

// Offsets of each slice along the normal, relative to slice 0.
std::vector<double> normalOffsets(const Volume& v) {
  std::vector<double> off(v.nz);
  for (std::size_t k = 0; k < v.nz; ++k) off[k] = dot(v.slice_pos[k] - v.slice_pos[0], v.normal);
  return off;
}

void requireGeometry(const Volume& v, const char* what) {
  if (v.nx == 0 || v.ny == 0 || v.nz == 0 || v.slice_pos.size() != v.nz)
    throw Error(std::string(what) + ": volume geometry is empty or inconsistent");
}

// Bilinear sample of one source slice at fractional (a = column, b = row).
// Returns false when the point lies outside the slice's voxel centres.
inline bool sampleSlice(const Volume& src, std::size_t s, double a, double b, double& out) {
  SliceBilinearTaps t;
  if (!sliceBilinearTaps(src.nx, src.ny, s, a, b, kIndexEps, t)) return false;
  const float* hu = src.hu.data();
  out = t.mix([hu](std::size_t x) { return static_cast<double>(hu[x]); });
  return true;
}

// Moves `s` so that off[s] <= w < off[s+1] (s = last-1 at the top); the hint
// from the previous voxel makes this O(1) on average.
inline std::size_t bracket(const std::vector<double>& off, double w, std::size_t s) {
  const std::size_t last = off.size() - 1;
  if (last == 0) return 0;
  s = std::min(s, last - 1);
  while (s + 1 < last && w >= off[s + 1]) ++s;
  while (s > 0 && w < off[s]) --s;
  return s;
}

}  // namespace

Volume regularGridFor(const Volume& v, double slice_spacing) {
  requireGeometry(v, "regularGridFor");
  const StackGeometry sg = analyzeStack(v);
  double spacing = slice_spacing;
  if (spacing <= 0) {
    if (v.nz < 2)
      spacing = std::min(v.col_spacing, v.row_spacing);
    else if (sg.uniform)
      // Evenly spaced (within tolerance): the mean gap puts the first and last
      // grid slices exactly on the first and last source slices.
      spacing = (sg.offsets.back() - sg.offsets.front()) / static_cast<double>(v.nz - 1);
    else
      spacing = sg.min_gap;  // never coarser than the finest part of the stack
  }
  if (!(spacing > 0)) throw Error("regularGridFor: slices share one position, no slice spacing");

  // Extent of every voxel centre in the stack's own frame, relative to slice 0.
  const Vec3& o = v.slice_pos[0];
  double umin = std::numeric_limits<double>::max(), umax = -umin, vmin = umin, vmax = -umin, wmax = -umin;
  for (const Vec3& p : v.slice_pos) {
    const Vec3 d = p - o;
    umin = std::min(umin, dot(d, v.row_dir));
    umax = std::max(umax, dot(d, v.row_dir));
    vmin = std::min(vmin, dot(d, v.col_dir));
    vmax = std::max(vmax, dot(d, v.col_dir));
    wmax = std::max(wmax, dot(d, v.normal));
  }
  umax += static_cast<double>(v.nx - 1) * v.col_spacing;
  vmax += static_cast<double>(v.ny - 1) * v.row_spacing;

  Volume g;
  g.row_dir = v.row_dir;
  g.col_dir = v.col_dir;
  g.normal = v.normal;
  g.col_spacing = v.col_spacing;
  g.row_spacing = v.row_spacing;
  g.nx = countCovering(umax - umin, v.col_spacing);
  g.ny = countCovering(vmax - vmin, v.row_spacing);
  g.nz = countCovering(wmax, spacing);
  const Vec3 origin = o + umin * v.row_dir + vmin * v.col_dir;
  g.slice_pos.resize(g.nz);
  for (std::size_t k = 0; k < g.nz; ++k) g.slice_pos[k] = origin + (static_cast<double>(k) * spacing) * v.normal;
  return g;
}

Volume lpsGridFor(const Volume& v, double spacing) {
  requireGeometry(v, "lpsGridFor");
  if (!(spacing > 0)) throw Error("lpsGridFor: spacing must be positive");
  Vec3 lo{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
          std::numeric_limits<double>::max()};
  Vec3 hi = -1.0 * lo;
  const Vec3 ex = (static_cast<double>(v.nx - 1) * v.col_spacing) * v.row_dir;
  const Vec3 ey = (static_cast<double>(v.ny - 1) * v.row_spacing) * v.col_dir;
  for (const Vec3& p : v.slice_pos) {
    for (const Vec3& c : {p, p + ex, p + ey, p + ex + ey}) {
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], c[a]);
        hi[a] = std::max(hi[a], c[a]);
      }
    }
  }
  Volume g;
  g.row_dir = {1, 0, 0};
  g.col_dir = {0, 1, 0};
  g.normal = {0, 0, 1};
  g.col_spacing = g.row_spacing = spacing;
  g.nx = countCovering(hi[0] - lo[0], spacing);
  g.ny = countCovering(hi[1] - lo[1], spacing);
  g.nz = countCovering(hi[2] - lo[2], spacing);
  g.slice_pos.resize(g.nz);
  for (std::size_t k = 0; k < g.nz; ++k) g.slice_pos[k] = {lo[0], lo[1], lo[2] + static_cast<double>(k) * spacing};
  return g;
}

void resampleInto(const Volume& src, Volume& grid, float outside) {
  requireGeometry(src, "resampleInto (source)");
  requireGeometry(grid, "resampleInto (grid)");
  if (src.hu.size() != src.voxelCount()) throw Error("resampleInto: source has no voxel values");
  grid.hu.assign(grid.voxelCount(), outside);

  const Vec3& o = src.slice_pos[0];
  const std::vector<double> off = normalOffsets(src);
  // In-plane index of each source slice's origin, relative to slice 0 (non-zero when sheared).
  std::vector<double> sa(src.nz), sb(src.nz);
  for (std::size_t s = 0; s < src.nz; ++s) {
    sa[s] = dot(src.slice_pos[s] - o, src.row_dir) / src.col_spacing;
    sb[s] = dot(src.slice_pos[s] - o, src.col_dir) / src.row_spacing;
  }
  // Position of a grid voxel in source coordinates is affine in (i, j):
  // precompute the per-column and per-row increments once.
  const Vec3 gx = grid.col_spacing * grid.row_dir, gy = grid.row_spacing * grid.col_dir;
  const double dw_i = dot(gx, src.normal), da_i = dot(gx, src.row_dir) / src.col_spacing,
               db_i = dot(gx, src.col_dir) / src.row_spacing;
  const double dw_j = dot(gy, src.normal), da_j = dot(gy, src.row_dir) / src.col_spacing,
               db_j = dot(gy, src.col_dir) / src.row_spacing;
  const double wlo = off.front() - kOffsetEps, whi = off.back() + kOffsetEps;
  // A slice whose interpolation weight is below this contributes nothing, so a
  // point on a slice never needs its neighbour to cover it (sheared edges).
  constexpr double kWeightEps = 1e-9;

  forEachSlice(grid.nz, grid.nx * grid.ny, [&](std::size_t k) {
    const Vec3 base = grid.slice_pos[k] - o;
    const double w_k = dot(base, src.normal), a_k = dot(base, src.row_dir) / src.col_spacing,
                 b_k = dot(base, src.col_dir) / src.row_spacing;
    std::size_t s = 0;
    float* out = &grid.hu[k * grid.ny * grid.nx];
    for (std::size_t j = 0; j < grid.ny; ++j) {
      const double jd = static_cast<double>(j);
      const double w_j = w_k + jd * dw_j, a_j = a_k + jd * da_j, b_j = b_k + jd * db_j;
      for (std::size_t i = 0; i < grid.nx; ++i, ++out) {
        const double id = static_cast<double>(i);
        const double w = w_j + id * dw_i;
        if (w < wlo || w > whi) continue;
        const double a = a_j + id * da_i, b = b_j + id * db_i;
        s = bracket(off, w, s);
        double t = 0;
        if (src.nz > 1) t = std::clamp((w - off[s]) / (off[s + 1] - off[s]), 0.0, 1.0);
        double value = 0, sample = 0;
        if (1.0 - t > kWeightEps) {
          if (!sampleSlice(src, s, a - sa[s], b - sb[s], sample)) continue;
          value += (1.0 - t) * sample;
        }
        if (t > kWeightEps) {
          if (!sampleSlice(src, s + 1, a - sa[s + 1], b - sb[s + 1], sample)) continue;
          value += t * sample;
        }
        *out = static_cast<float>(value);
      }
    }
  });
}

VoxelMask maskToNative(const VoxelMask& grid_mask, const Volume& grid, const Volume& native) {
  requireGeometry(grid, "maskToNative (grid)");
  requireGeometry(native, "maskToNative (native)");
  if (grid_mask.nx != grid.nx || grid_mask.ny != grid.ny || grid_mask.nz != grid.nz ||
      grid_mask.data.size() != grid.voxelCount())
    throw Error("maskToNative: mask size does not match its grid");

  VoxelMask out = VoxelMask::like(native);
  const Vec3& o = grid.slice_pos[0];
  const std::vector<double> off = normalOffsets(grid);
  std::vector<double> ga(grid.nz), gb(grid.nz);
  for (std::size_t s = 0; s < grid.nz; ++s) {
    ga[s] = dot(grid.slice_pos[s] - o, grid.row_dir) / grid.col_spacing;
    gb[s] = dot(grid.slice_pos[s] - o, grid.col_dir) / grid.row_spacing;
  }
  // A native voxel belongs to the nearest grid slice, up to half a gap beyond the ends.
  const double end_half_gap = grid.nz > 1 ? 0.5 * std::abs(off[1] - off[0]) : 0.5 * grid.col_spacing;
  const double half_last = grid.nz > 1 ? 0.5 * std::abs(off[grid.nz - 1] - off[grid.nz - 2]) : end_half_gap;
  const double wlo = off.front() - end_half_gap, whi = off.back() + half_last;

  const Vec3 nx_step = native.col_spacing * native.row_dir, ny_step = native.row_spacing * native.col_dir;
  const double dw_i = dot(nx_step, grid.normal), da_i = dot(nx_step, grid.row_dir) / grid.col_spacing,
               db_i = dot(nx_step, grid.col_dir) / grid.row_spacing;
  const double dw_j = dot(ny_step, grid.normal), da_j = dot(ny_step, grid.row_dir) / grid.col_spacing,
               db_j = dot(ny_step, grid.col_dir) / grid.row_spacing;
  const double amax = static_cast<double>(grid.nx) - 0.5, bmax = static_cast<double>(grid.ny) - 0.5;

  // Only native voxels that can land in the mask's bounding box are visited
  // (the face is a small part of the volume): per row, the columns whose grid
  // position falls within the box, grown by a column on each side so that
  // rounding at the ends never drops one; every other voxel stays 0. Only
  // ones are written: `out` starts as zeros whose pages are not resident
  // (VoxelMask), and a page stays so unless the face reaches it.
  std::size_t bi0 = grid.nx, bi1 = 0, bj0 = grid.ny, bj1 = 0, bk0 = grid.nz, bk1 = 0;
  for (std::size_t k = 0; k < grid.nz; ++k)
    for (std::size_t j = 0; j < grid.ny; ++j) {
      const std::uint8_t* row = &grid_mask.data[(k * grid.ny + j) * grid.nx];
      for (std::size_t i = 0; i < grid.nx; ++i) {
        if (!row[i]) continue;
        bi0 = std::min(bi0, i), bi1 = std::max(bi1, i);
        bj0 = std::min(bj0, j), bj1 = std::max(bj1, j);
        bk0 = std::min(bk0, k), bk1 = std::max(bk1, k);
      }
    }
  if (bk0 == grid.nz) return out;
  // The nearest grid slice is in [bk0, bk1] only between the neighbouring slices' offsets.
  const double box_wlo = std::max(wlo, bk0 > 0 ? off[bk0 - 1] : wlo);
  const double box_whi = std::min(whi, bk1 + 1 < grid.nz ? off[bk1 + 1] : whi);
  const double ga_lo = *std::min_element(ga.begin(), ga.end()), ga_hi = *std::max_element(ga.begin(), ga.end());
  const double gb_lo = *std::min_element(gb.begin(), gb.end()), gb_hi = *std::max_element(gb.begin(), gb.end());
  const double box_alo = static_cast<double>(bi0) - 0.5 + ga_lo, box_ahi = static_cast<double>(bi1) + 0.5 + ga_hi;
  const double box_blo = static_cast<double>(bj0) - 0.5 + gb_lo, box_bhi = static_cast<double>(bj1) + 0.5 + gb_hi;
  const double last_col = static_cast<double>(native.nx - 1);
  // Narrows [lo, hi] to the columns i where lo_v <= v0 + i * dv <= hi_v.
  auto clip = [&](double v0, double dv, double lo_v, double hi_v, double& lo, double& hi) {
    if (std::abs(dv) < 1e-12) {
      if (v0 < lo_v || v0 > hi_v) hi = -1;
      return;
    }
    double a = (lo_v - v0) / dv, b = (hi_v - v0) / dv;
    if (a > b) std::swap(a, b);
    lo = std::max(lo, std::floor(a) - 1), hi = std::min(hi, std::ceil(b) + 1);
  };

  forEachSlice(native.nz, native.nx * native.ny, [&](std::size_t k) {
    const Vec3 base = native.slice_pos[k] - o;
    const double w_k = dot(base, grid.normal), a_k = dot(base, grid.row_dir) / grid.col_spacing,
                 b_k = dot(base, grid.col_dir) / grid.row_spacing;
    std::size_t s = 0;
    for (std::size_t j = 0; j < native.ny; ++j) {
      const double jd = static_cast<double>(j);
      const double w_j = w_k + jd * dw_j, a_j = a_k + jd * da_j, b_j = b_k + jd * db_j;
      double lo = 0, hi = last_col;
      clip(w_j, dw_i, box_wlo, box_whi, lo, hi);
      clip(a_j, da_i, box_alo, box_ahi, lo, hi);
      clip(b_j, db_i, box_blo, box_bhi, lo, hi);
      if (hi < lo) continue;
      const auto i_lo = static_cast<std::size_t>(std::max(0.0, lo));
      const auto i_hi = static_cast<std::size_t>(std::min(last_col, hi));
      std::uint8_t* dst = &out.data[(k * native.ny + j) * native.nx];
      if (dw_i == 0 && db_i == 0) {
        // Rows parallel to the grid's rows (any stack that is not rotated in
        // plane against the grid, tilted or not): the grid slice and row are
        // the row's own, only the column moves. Same arithmetic as below.
        if (w_j < wlo || w_j > whi) continue;
        s = bracket(off, w_j, s);
        std::size_t gk = s;
        if (grid.nz > 1 && std::abs(off[s + 1] - w_j) < std::abs(w_j - off[s])) gk = s + 1;
        const double b = b_j - gb[gk];
        if (b < -0.5 || b >= bmax) continue;
        const auto gj = static_cast<std::size_t>(std::max(0.0, std::floor(b + 0.5)));
        const std::uint8_t* src = &grid_mask.data[(gk * grid.ny + gj) * grid.nx];
        // Only the columns that can land between this grid row's first and
        // last one (the face is a shell: most rows of the box hold few).
        const std::size_t first_one = findNonZero(src, grid.nx);
        if (first_one == grid.nx) continue;
        std::size_t last_one = grid.nx - 1;
        while (!src[last_one]) --last_one;
        double row_lo = static_cast<double>(i_lo), row_hi = static_cast<double>(i_hi);
        clip(a_j - ga[gk], da_i, static_cast<double>(first_one) - 0.5, static_cast<double>(last_one) + 0.5, row_lo,
             row_hi);
        if (row_hi < row_lo) continue;
        const auto r_lo = static_cast<std::size_t>(std::max(0.0, row_lo));
        const auto r_hi = static_cast<std::size_t>(std::min(last_col, row_hi));
        for (std::size_t i = r_lo; i <= r_hi; ++i) {
          const double a = a_j + static_cast<double>(i) * da_i - ga[gk];
          if (a < -0.5 || a >= amax) continue;
          if (src[static_cast<std::size_t>(std::max(0.0, std::floor(a + 0.5)))]) dst[i] = 1;
        }
        continue;
      }
      for (std::size_t i = i_lo; i <= i_hi; ++i) {
        const double id = static_cast<double>(i);
        const double w = w_j + id * dw_i;
        if (w < wlo || w > whi) continue;
        s = bracket(off, w, s);
        std::size_t gk = s;
        if (grid.nz > 1 && std::abs(off[s + 1] - w) < std::abs(w - off[s])) gk = s + 1;
        const double a = a_j + id * da_i - ga[gk], b = b_j + id * db_i - gb[gk];
        if (a < -0.5 || a >= amax || b < -0.5 || b >= bmax) continue;
        const auto gi = static_cast<std::size_t>(std::max(0.0, std::floor(a + 0.5)));
        const auto gj = static_cast<std::size_t>(std::max(0.0, std::floor(b + 0.5)));
        if (grid_mask.data[(gk * grid.ny + gj) * grid.nx + gi]) dst[i] = 1;
      }
    }
  });
  return out;
}

}  // namespace ctd
