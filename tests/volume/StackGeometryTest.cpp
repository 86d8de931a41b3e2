#include "volume/StackGeometry.h"

#include <gtest/gtest.h>

#include "VolumeFixtures.h"

namespace ctd {
namespace {

using testing::evenOffsets;
using testing::makeStack;

TEST(StackGeometry, EvenUntiltedStackIsRegular) {
  const Volume v = makeStack(4, 3, evenOffsets(6, 2.5));
  const StackGeometry g = analyzeStack(v);
  ASSERT_EQ(g.offsets.size(), 6u);
  ASSERT_EQ(g.gaps.size(), 5u);
  for (double gap : g.gaps) EXPECT_NEAR(gap, 2.5, 1e-12);
  EXPECT_NEAR(g.min_gap, 2.5, 1e-12);
  EXPECT_NEAR(g.max_gap, 2.5, 1e-12);
  EXPECT_NEAR(g.median_gap, 2.5, 1e-12);
  EXPECT_TRUE(g.uniform);
  EXPECT_NEAR(g.tilt_deg, 0.0, 1e-6);
  EXPECT_FALSE(g.sheared);
  EXPECT_TRUE(g.regular());
  EXPECT_NEAR(g.offsets[3] - g.offsets[0], 7.5, 1e-12);
}

TEST(StackGeometry, UnevenGapsAreReportedWithMedian) {
  // Like the GE head: thin slices, one odd gap, then thick slices.
  const Volume v = makeStack(4, 3, {0, 4, 8, 12, 13.08, 20.08, 27.08});
  const StackGeometry g = analyzeStack(v);
  EXPECT_FALSE(g.uniform);
  EXPECT_FALSE(g.regular());
  EXPECT_FALSE(g.sheared);
  EXPECT_NEAR(g.min_gap, 1.08, 1e-9);
  EXPECT_NEAR(g.max_gap, 7.0, 1e-9);
  EXPECT_NEAR(g.median_gap, 4.0, 1e-9);  // sorted gaps 1.08 4 4 4 7 7 -> (4 + 4) / 2
}

TEST(StackGeometry, GapsWithinToleranceAreUniform) {
  const Volume v = makeStack(4, 3, {0, 5, 10.02, 15, 20});
  EXPECT_TRUE(analyzeStack(v, 0.01).uniform);
  EXPECT_FALSE(analyzeStack(v, 0.001).uniform);
}

TEST(StackGeometry, TiltAngleOfKnownShear) {
  for (double tilt : {18.5, -14.0, 0.5}) {
    const Volume v = makeStack(4, 3, evenOffsets(10, 3.0), tilt, {1, 0, 0}, {0, 0.948, -0.317});
    const StackGeometry g = analyzeStack(v);
    EXPECT_NEAR(g.tilt_deg, std::abs(tilt), 1e-9) << tilt;
    EXPECT_TRUE(g.sheared);
    EXPECT_TRUE(g.uniform);  // gaps are measured along the normal, not along the step
    EXPECT_NEAR(g.median_gap, 3.0, 1e-9);
  }
  const Volume small = makeStack(4, 3, evenOffsets(10, 3.0), 0.05);
  EXPECT_NEAR(analyzeStack(small).tilt_deg, 0.05, 1e-9);
  EXPECT_FALSE(analyzeStack(small).sheared);
}

// Applies a row-major 4x4 affine to (i, j, k).
Vec3 apply(const std::array<double, 16>& a, double i, double j, double k) {
  Vec3 p{};
  for (int r = 0; r < 3; ++r) p[r] = a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3];
  return p;
}

TEST(StackGeometry, AffineIsExactForUniformStacksShearedOrNot) {
  for (double tilt : {0.0, 18.5}) {
    const Volume v = makeStack(5, 4, evenOffsets(7, 2.0), tilt, {0.9, 0.1, 0.0}, {-0.1, 0.9, 0.3});
    const auto a = voxelToLpsAffine(v);
    EXPECT_EQ(a[12], 0.0);
    EXPECT_EQ(a[13], 0.0);
    EXPECT_EQ(a[14], 0.0);
    EXPECT_EQ(a[15], 1.0);
    for (std::size_t k = 0; k < v.nz; ++k)
      for (double j : {0.0, 1.0, 3.0})
        for (double i : {0.0, 2.0, 4.0}) {
          const Vec3 want = v.world(i, j, k), got = apply(a, i, j, static_cast<double>(k));
          for (int r = 0; r < 3; ++r) EXPECT_NEAR(got[r], want[r], 1e-9) << tilt << " " << i << " " << j << " " << k;
        }
  }
}

TEST(StackGeometry, AffineColumnsAreScaledDirections) {
  const Volume v = makeStack(5, 4, evenOffsets(3, 2.0));
  const auto a = voxelToLpsAffine(v);
  EXPECT_NEAR(a[0], v.col_spacing, 1e-12);  // i grows along row_dir by the column spacing
  EXPECT_NEAR(a[5], v.row_spacing, 1e-12);  // j grows along col_dir by the row spacing
  EXPECT_NEAR(a[10], 2.0, 1e-12);
  EXPECT_NEAR(a[3], v.slice_pos[0][0], 1e-12);
  EXPECT_NEAR(a[7], v.slice_pos[0][1], 1e-12);
  EXPECT_NEAR(a[11], v.slice_pos[0][2], 1e-12);
}

}  // namespace
}  // namespace ctd
