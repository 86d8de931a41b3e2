#include <gtest/gtest.h>

#include "core/Error.h"
#include "segment/Blend.h"

namespace ctd {
namespace {

Volume ramp(std::size_t n) {
  Volume v;
  v.nx = n, v.ny = 1, v.nz = 1;
  v.slice_pos = {{0, 0, 0}};
  for (std::size_t i = 0; i < n; ++i) v.hu.push_back(static_cast<float>(i) - 500.0f);  // -500 .. n-501
  return v;
}

TEST(Blend, ParsesAirP10AndNumbers) {
  EXPECT_EQ(parseFillSpec("air").kind, FillSpec::Air);
  EXPECT_EQ(parseFillSpec("p10").kind, FillSpec::P10);
  const FillSpec f = parseFillSpec("-85.5");
  EXPECT_EQ(f.kind, FillSpec::Value);
  EXPECT_DOUBLE_EQ(f.value, -85.5);
  EXPECT_THROW(parseFillSpec("water"), Error);
  EXPECT_THROW(parseFillSpec("12abc"), Error);
  EXPECT_THROW(parseFillSpec(""), Error);
}

TEST(Blend, FillValues) {
  const Volume v = ramp(1001);  // -500 .. 500
  EXPECT_DOUBLE_EQ(fillValueHu(v, parseFillSpec("air")), -1000.0);
  EXPECT_DOUBLE_EQ(fillValueHu(v, parseFillSpec("40")), 40.0);
  // 10th percentile of 1001 evenly spaced values -500..500 is -400.
  EXPECT_DOUBLE_EQ(fillValueHu(v, parseFillSpec("p10")), -400.0);
}

TEST(Blend, ApplyMaskChangesOnlyMaskedVoxels) {
  Volume v = ramp(10);
  const Volume before = v;
  VoxelMask m = VoxelMask::like(v);
  m.data[2] = m.data[7] = 1;
  applyMask(v, m, -1000);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_FLOAT_EQ(v.hu[i], (i == 2 || i == 7) ? -1000.0f : before.hu[i]) << i;
  VoxelMask wrong(9, 1, 1);
  EXPECT_THROW(applyMask(v, wrong, 0), Error);
}

}  // namespace
}  // namespace ctd
