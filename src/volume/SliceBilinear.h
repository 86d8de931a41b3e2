#pragma once
// Bilinear interpolation inside one native slice of a Volume: which four voxels
// and with which weights a fractional (column a, row b) is sampled. Shared by
// the regular-grid resampler and the QC skin grid so that both read a slice the
// same way; each caller then mixes its own arrays (HU, mask) with the taps.
#include <algorithm>
#include <cstddef>

#include "volume/Volume.h"

namespace ctd {

struct SliceBilinearTaps {
  std::size_t row0 = 0, row1 = 0;  // flat index of (0, j0, s) and (0, j1, s)
  std::size_t i0 = 0, i1 = 0;
  double fa = 0, fb = 0;  // weights of i1 and of row1

  // Mixes any per-voxel value (indexed by flat voxel index) with these taps.
  template <class Get>
  double mix(Get get) const {
    const double top = get(row0 + i0) + fa * (get(row0 + i1) - get(row0 + i0));
    const double bottom = get(row1 + i0) + fa * (get(row1 + i1) - get(row1 + i0));
    return top + fb * (bottom - top);
  }
};

// False when (a, b) lies more than `tolerance` voxels outside the slice's voxel
// centres; points within the tolerance are clamped onto the edge.
inline bool sliceBilinearTaps(std::size_t nx, std::size_t ny, std::size_t s, double a, double b, double tolerance,
                              SliceBilinearTaps& t) {
  const double amax = static_cast<double>(nx - 1), bmax = static_cast<double>(ny - 1);
  if (a < -tolerance || a > amax + tolerance || b < -tolerance || b > bmax + tolerance) return false;
  a = std::clamp(a, 0.0, amax);
  b = std::clamp(b, 0.0, bmax);
  t.i0 = std::min(static_cast<std::size_t>(a), nx > 1 ? nx - 2 : 0);
  const std::size_t j0 = std::min(static_cast<std::size_t>(b), ny > 1 ? ny - 2 : 0);
  t.i1 = std::min(t.i0 + 1, nx - 1);
  const std::size_t j1 = std::min(j0 + 1, ny - 1);
  t.fa = a - static_cast<double>(t.i0);
  t.fb = b - static_cast<double>(j0);
  t.row0 = (s * ny + j0) * nx;
  t.row1 = (s * ny + j1) * nx;
  return true;
}

}  // namespace ctd
