#include "volume/GridResampler.h"

#include <gtest/gtest.h>

#include <chrono>

#include "VolumeFixtures.h"
#include "volume/StackGeometry.h"

namespace ctd {
namespace {

using testing::evenOffsets;
using testing::expectSameGeometry;
using testing::fill;
using testing::fillRandom;
using testing::linearField;
using testing::makeStack;

TEST(GridResampler, RegularGridOfRegularStackIsTheStack) {
  const Volume v = makeStack(17, 13, evenOffsets(9, 2.5), 0, {0.8, 0.6, 0}, {-0.36, 0.48, 0.8});
  const Volume g = regularGridFor(v);
  EXPECT_TRUE(g.hu.empty());
  expectSameGeometry(g, v);
}

TEST(GridResampler, ResamplingRegularStackOntoItsGridIsIdentity) {
  Volume v = makeStack(33, 27, evenOffsets(11, 1.25), 0, {0.8, 0.6, 0}, {-0.36, 0.48, 0.8});
  fillRandom(v, 7);
  Volume g = regularGridFor(v);
  resampleInto(v, g, -5000.0f);
  ASSERT_EQ(g.hu.size(), v.hu.size());
  std::size_t differ = 0;
  for (std::size_t n = 0; n < v.hu.size(); ++n) differ += std::abs(g.hu[n] - v.hu[n]) > 1e-3f;
  EXPECT_EQ(differ, 0u);
}

TEST(GridResampler, TiltedUnevenStackSampledAtItsOwnVoxelCentresReproducesValues) {
  Volume v = makeStack(31, 29, {0, 4, 8, 12, 13.08, 20.08, 27.08}, 18.5, {1, 0, 0}, {0, 0.948, -0.317});
  fillRandom(v, 11);
  Volume at_centres = v;  // same geometry: every grid voxel is a native voxel centre
  at_centres.hu.clear();
  resampleInto(v, at_centres, -5000.0f);
  std::size_t differ = 0;
  for (std::size_t n = 0; n < v.hu.size(); ++n) differ += std::abs(at_centres.hu[n] - v.hu[n]) > 1e-3f;
  EXPECT_EQ(differ, 0u);
}

TEST(GridResampler, RegularGridOfTiltedStackCoversItAndInterpolatesLinearFieldExactly) {
  Volume v = makeStack(40, 36, {0, 4, 8, 12, 13.08, 20.08, 27.08}, 18.5, {1, 0, 0}, {0, 0.948, -0.317});
  fill(v, linearField);
  Volume g = regularGridFor(v);
  // Orthogonal frame of the stack, smallest gap, same in-plane spacing.
  EXPECT_NEAR(g.col_spacing, v.col_spacing, 1e-12);
  EXPECT_NEAR(g.row_spacing, v.row_spacing, 1e-12);
  ASSERT_GE(g.nz, 2u);
  EXPECT_NEAR(norm(g.slice_pos[1] - g.slice_pos[0]), 1.08, 1e-9);
  EXPECT_TRUE(analyzeStack(g).regular());
  EXPECT_EQ(g.nz, 27u);  // 27.08 / 1.08 = 25.07 -> 26 steps
  // The shear moves the stack 27.08 * tan(18.5 deg) = 9.06 mm along col_dir: 13 more rows.
  EXPECT_EQ(g.nx, v.nx);
  EXPECT_EQ(g.ny, v.ny + 13);

  resampleInto(v, g, -5000.0f);
  std::size_t inside = 0, wrong = 0;
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const float got = g.at(i, j, k);
        if (got == -5000.0f) continue;
        ++inside;
        wrong += std::abs(got - linearField(g.world(double(i), double(j), k))) > 1e-3;
      }
  EXPECT_EQ(wrong, 0u);
  // Most of the grid lies inside the sheared stack (rows shift with the shear).
  EXPECT_GT(inside, g.nz * v.ny * v.nx * 3 / 4);
}

TEST(GridResampler, OutsidePointsGetOutsideValue) {
  Volume v = makeStack(10, 10, evenOffsets(5, 2.0));
  fill(v, linearField);
  Volume g = v;
  for (auto& p : g.slice_pos) p = p + Vec3{0, 0, 100};  // far above the stack
  resampleInto(v, g, -777.0f);
  for (float x : g.hu) ASSERT_EQ(x, -777.0f);
  Volume shifted = v;
  for (auto& p : shifted.slice_pos) p = p + Vec3{0.5 * v.col_spacing, 0, 0};  // half a column to +x
  resampleInto(v, shifted, -777.0f);
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j) {
      EXPECT_EQ(shifted.at(v.nx - 1, j, k), -777.0f);  // beyond the last column
      EXPECT_NEAR(shifted.at(0, j, k), linearField(shifted.world(0, double(j), k)), 1e-3);
    }
}

TEST(GridResampler, LpsGridOfObliqueStackInterpolatesLinearField) {
  Volume v = makeStack(24, 20, {0, 3, 6, 7.5, 12}, 12.0, {0.8, 0.6, 0}, {-0.36, 0.48, 0.8});
  fill(v, linearField);
  Volume g = lpsGridFor(v, 1.5);
  EXPECT_EQ(g.row_dir, (Vec3{1, 0, 0}));
  EXPECT_EQ(g.col_dir, (Vec3{0, 1, 0}));
  EXPECT_EQ(g.normal, (Vec3{0, 0, 1}));
  // The grid's corners bound every native voxel centre.
  for (std::size_t k = 0; k < v.nz; ++k)
    for (double j : {0.0, double(v.ny - 1)})
      for (double i : {0.0, double(v.nx - 1)}) {
        const Vec3 p = v.world(i, j, k);
        const Vec3 lo = g.slice_pos.front();
        const Vec3 hi = g.world(double(g.nx - 1), double(g.ny - 1), g.nz - 1);
        for (int r = 0; r < 3; ++r) {
          EXPECT_GE(p[r], lo[r] - 1e-9);
          EXPECT_LE(p[r], hi[r] + 1e-9);
        }
      }
  resampleInto(v, g, -5000.0f);
  std::size_t inside = 0, wrong = 0;
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        if (g.at(i, j, k) == -5000.0f) continue;
        ++inside;
        wrong += std::abs(g.at(i, j, k) - linearField(g.world(double(i), double(j), k))) > 1e-2;
      }
  EXPECT_EQ(wrong, 0u);
  // The sampled part is the stack's volume (shear preserves it) in 1.5 mm voxels.
  const double expected = (v.nx - 1) * v.col_spacing * (v.ny - 1) * v.row_spacing * 12.0 / (1.5 * 1.5 * 1.5);
  EXPECT_NEAR(double(inside), expected, 0.15 * expected);
}

TEST(GridResampler, MaskRoundTripThroughRegularGridIsExact) {
  // Shear and gaps chosen so that no native voxel is equidistant from two grid voxels.
  Volume v = makeStack(30, 28, {0, 4, 8, 12, 13.1, 20.1, 27.1}, 17.0, {1, 0, 0}, {0, 0.948, -0.317});
  VoxelMask m = VoxelMask::like(v);
  std::mt19937 rng(5);
  for (auto& x : m.data) x = rng() % 3 == 0;
  const Volume g = regularGridFor(v);
  const VoxelMask on_grid = maskToNative(m, v, g);  // native -> grid (any geometry works)
  ASSERT_EQ(on_grid.data.size(), g.voxelCount());
  const VoxelMask back = maskToNative(on_grid, g, v);
  ASSERT_EQ(back.data.size(), m.data.size());
  std::size_t differ = 0;
  for (std::size_t n = 0; n < m.data.size(); ++n) differ += back.data[n] != m.data[n];
  EXPECT_EQ(differ, 0u);
  EXPECT_GT(m.count(), 0u);
}

TEST(GridResampler, SphereMaskOnLpsGridLandsOnNativeVoxelsInsideTheSphere) {
  const Volume v = makeStack(48, 44, {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 25, 30}, 15.0, {1, 0, 0},
                             {0, 0.948, -0.317});
  const Volume g = lpsGridFor(v, 0.5);
  const Vec3 c = v.world(24, 20, 6);
  const double radius = 8.0;
  VoxelMask gm = VoxelMask::like(g);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i)
        gm.data[gm.index(i, j, k)] = norm(g.world(double(i), double(j), k) - c) <= radius;
  const VoxelMask nm = maskToNative(gm, g, v);
  // Nearest neighbour on a 0.5 mm grid: wrong at most within sqrt(3) * 0.25 mm of the surface.
  const double slack = 0.5 * std::sqrt(3.0) * 0.5 + 1e-9;
  std::size_t wrong = 0, in = 0;
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const double d = norm(v.world(double(i), double(j), k) - c);
        const bool got = nm.at(i, j, k);
        in += got;
        if (d < radius - slack) wrong += !got;
        if (d > radius + slack) wrong += got;
      }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(in, 100u);
}

TEST(GridResampler, ExplicitSliceSpacingAndSingleSliceSources) {
  Volume v = makeStack(12, 10, evenOffsets(5, 3.0));
  fill(v, linearField);
  Volume g = regularGridFor(v, 1.0);
  EXPECT_EQ(g.nz, 13u);  // 12 mm in 1 mm steps
  resampleInto(v, g, -5000.0f);
  for (std::size_t k = 0; k < g.nz; ++k)  // between slices: linear along the normal
    EXPECT_NEAR(g.at(4, 3, k), linearField(g.world(4, 3, k)), 1e-3) << k;

  Volume one = makeStack(12, 10, {0.0});
  fill(one, linearField);
  Volume g1 = regularGridFor(one);
  ASSERT_EQ(g1.nz, 1u);
  resampleInto(one, g1, -5000.0f);
  EXPECT_EQ(g1.hu, one.hu);
  Volume above = g1;
  above.slice_pos[0] = above.slice_pos[0] + Vec3{0, 0, 0.5};
  resampleInto(one, above, -5000.0f);
  EXPECT_EQ(above.hu[0], -5000.0f);  // a single slice has no thickness
}

TEST(GridResampler, MaskSizeMismatchThrows) {
  const Volume v = makeStack(8, 8, evenOffsets(4, 1.0));
  EXPECT_THROW(maskToNative(VoxelMask(8, 8, 3), v, v), std::runtime_error);
}

TEST(GridResampler, LargeStackResamplesQuickly) {
  // The pipeline size: 512 x 512 x 300 tilted. Must stay well under a few seconds.
  Volume v = makeStack(512, 512, evenOffsets(300, 0.625), 15.0, {1, 0, 0}, {0, 0.966, -0.259}, 0.49, 0.49);
  fill(v, linearField);
  Volume g = lpsGridFor(v, 1.0);
  const auto t0 = std::chrono::steady_clock::now();
  resampleInto(v, g);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("resampled %zu x %zu x %zu in %.2f s\n", g.nx, g.ny, g.nz, s);
  EXPECT_LT(s, 10.0);
  const std::size_t mid = g.index(g.nx / 2, g.ny / 2, g.nz / 2);
  EXPECT_NEAR(g.hu[mid], linearField(g.world(double(g.nx / 2), double(g.ny / 2), g.nz / 2)), 1e-2);
}

}  // namespace
}  // namespace ctd
