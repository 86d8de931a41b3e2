// The coarse face mask pulled back to the native voxels: where it should stay
// put (a flat boundary on the grid) and where it must lose its staircase (an
// oblique cut, which nearest-neighbour pulls back in 2 mm steps).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "segment/SmoothMaskPullback.h"
#include "volume/GridResampler.h"

namespace ctd {
namespace {

// A native series: nx x ny x nz voxels of `px` mm, axis-aligned, starting at the origin.
Volume nativeSeries(std::size_t nx, std::size_t ny, std::size_t nz, double px) {
  Volume v;
  v.nx = nx, v.ny = ny, v.nz = nz;
  v.row_dir = {1, 0, 0}, v.col_dir = {0, 1, 0}, v.normal = {0, 0, 1};
  v.col_spacing = v.row_spacing = px;
  for (std::size_t k = 0; k < nz; ++k) v.slice_pos.push_back({0, 0, px * static_cast<double>(k)});
  return v;
}

TEST(SmoothMaskPullback, FlatBoundaryStaysWhereNearestNeighbourPutsIt) {
  const coarse::Grid g{20, 20, 20, 2.0};
  coarse::Bits m(g.size(), 0);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < 9; ++i) m[g.index(i, j, k)] = 1;  // x < 17 mm
  const Volume v = nativeSeries(38, 38, 38, 1.0);
  const VoxelMask out = smoothMaskToNative(m, g, Vec3{0, 0, 0}, v);
  // Coarse voxels 0..8 cover x < 17 mm (centres 0..16): the native voxels at
  // x <= 16 are masked, those at x >= 18 are not (x = 17 lies on the half level).
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j) {
      for (std::size_t i = 0; i <= 16; ++i) ASSERT_EQ(out.at(i, j, k), 1) << i << "," << j << "," << k;
      for (std::size_t i = 18; i < v.nx; ++i) ASSERT_EQ(out.at(i, j, k), 0) << i << "," << j << "," << k;
    }
}

TEST(SmoothMaskPullback, ObliqueCutLosesItsStaircase) {
  // Everything in front of the plane x + z = 30 mm, on a 2 mm grid: nearest
  // neighbour steps it 2 mm at a time; the native grid is 0.5 mm.
  const coarse::Grid g{24, 4, 24, 2.0};
  coarse::Bits m(g.size(), 0);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) m[g.index(i, j, k)] = 2.0 * static_cast<double>(i + k) < 30;
  const Volume v = nativeSeries(90, 12, 90, 0.5);
  const VoxelMask smooth = smoothMaskToNative(m, g, Vec3{0, 0, 0}, v);
  Volume grid = nativeSeries(g.nx, g.ny, g.nz, 2.0);
  VoxelMask gm(g.nx, g.ny, g.nz);
  gm.data = m;
  const VoxelMask nearest = maskToNative(gm, grid, v);
  // Per native slice, where the boundary lies along x, against the plane's
  // x = 30 - z, for z = 2..25 mm (the boundary well inside the grid).
  double worst_smooth = 0, worst_nearest = 0;
  for (std::size_t k = 4; k <= 50; ++k) {
    const double z = 0.5 * static_cast<double>(k);
    const auto edge = [&](const VoxelMask& mk) {
      std::size_t i = 0;
      while (i < v.nx && mk.at(i, 5, k)) ++i;
      return 0.5 * static_cast<double>(i) - 0.25;
    };
    // The half level of a staircase lies a half coarse step inside the plane
    // x + z = 30: compare with the plane shifted by that (1 mm) so that only
    // the steps count.
    const double plane = 30.0 - z - 1.0;
    worst_smooth = std::max(worst_smooth, std::abs(edge(smooth) - plane));
    worst_nearest = std::max(worst_nearest, std::abs(edge(nearest) - plane));
  }
  std::cout << "boundary off the plane: nearest " << worst_nearest << " mm, smooth " << worst_smooth << " mm\n";
  // Nearest neighbour is off by up to a half coarse step (1 mm, less the
  // native 0.5 mm sampling); the smooth pull-back only by that sampling.
  EXPECT_GE(worst_nearest, 0.7);
  EXPECT_LE(worst_smooth, 0.3);
}

TEST(SmoothMaskPullback, EmptyMaskWritesNothing) {
  const coarse::Grid g{6, 6, 6, 2.0};
  const VoxelMask out = smoothMaskToNative(coarse::Bits(g.size(), 0), g, Vec3{0, 0, 0}, nativeSeries(10, 10, 10, 1.0));
  EXPECT_EQ(out.count(), 0u);
}

}  // namespace
}  // namespace ctd
