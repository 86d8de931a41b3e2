// Series assembly on real CT headers with odd geometry (random pixels).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "DicomTestSupport.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"

namespace ctd {
namespace {

CaseInventory assembleFolder(const std::string& rel) {
  const Discovery d = discoverCases(test::sharedData("ct-geometry-stubs/" + rel));
  EXPECT_EQ(d.cases.size(), 1u);
  return assembleCase(d.cases.at(0));
}

bool anyContains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

double stepAngleDeg(const Volume& v) {
  const Vec3 step = v.slice_pos.back() - v.slice_pos.front();
  return std::acos(dot(step, v.normal) / norm(step)) * 180.0 / M_PI;
}

TEST(GeometryStubs, TiltIsInferredWithoutTheTiltTag) {
  const CaseInventory inv = assembleFolder("siemens-tilt-14deg");
  for (const auto& inst : inv.instances) EXPECT_FALSE(inst.gantry_tilt.has_value());
  ASSERT_EQ(inv.stacks.size(), 1u);
  const SeriesStack& s = inv.stacks[0];
  EXPECT_EQ(s.slices.size(), 4u);
  EXPECT_TRUE(anyContains(s.warnings, "gantry tilt 14.0 deg")) << ::testing::PrintToString(s.warnings);
  const Volume v = loadVolume(inv, s);
  EXPECT_NEAR(stepAngleDeg(v), 14.0, 0.05);
  // IOP column direction (0, 0.970, -0.242) is kept as given.
  EXPECT_NEAR(v.col_dir[1], 0.970, 1e-3);
  EXPECT_NEAR(v.col_dir[2], -0.242, 1e-3);
  for (std::size_t k = 0; k + 1 < v.nz; ++k) EXPECT_NEAR(v.slice_pos[k + 1][2] - v.slice_pos[k][2], 5.0, 1e-6);
}

TEST(GeometryStubs, TiltedStackWithMissingSlice) {
  const CaseInventory inv = assembleFolder("siemens-tilt-15.5deg-missing-slice");
  ASSERT_EQ(inv.stacks.size(), 1u);
  const SeriesStack& s = inv.stacks[0];
  EXPECT_TRUE(anyContains(s.warnings, "missing slice(s): gap of 1.50 mm (2 x the usual 0.75 mm)"))
      << ::testing::PrintToString(s.warnings);
  EXPECT_TRUE(anyContains(s.warnings, "gantry tilt 15.5 deg"));
  const Volume v = loadVolume(inv, s);
  std::vector<double> gaps;
  for (std::size_t k = 0; k + 1 < v.nz; ++k) gaps.push_back(dot(v.slice_pos[k + 1] - v.slice_pos[k], v.normal));
  ASSERT_EQ(gaps.size(), 3u);
  EXPECT_NEAR(gaps[0], 0.75, 0.01);
  EXPECT_NEAR(gaps[1], 0.75, 0.01);
  EXPECT_NEAR(gaps[2], 1.5, 0.01);
}

TEST(GeometryStubs, MissingSliceIsAWarningAndSlicesSortByPosition) {
  const CaseInventory inv = assembleFolder("ge-lightspeed16-missing-slice");
  ASSERT_EQ(inv.stacks.size(), 1u);
  const SeriesStack& s = inv.stacks[0];
  EXPECT_TRUE(anyContains(s.warnings, "missing slice(s): gap of 10.00 mm")) << ::testing::PrintToString(s.warnings);
  EXPECT_FALSE(anyContains(s.warnings, "gantry tilt"));
  const Volume v = loadVolume(inv, s);
  ASSERT_EQ(v.nz, 4u);
  EXPECT_NEAR(v.slice_pos[0][2], 18.1075, 1e-4);
  EXPECT_NEAR(v.slice_pos[3][2], 38.107498, 1e-4);
  EXPECT_NEAR(v.slice_pos[3][2] - v.slice_pos[2][2], 10.0, 1e-4);
}

TEST(GeometryStubs, FourImagesAtOnePositionAreNotAVolume) {
  const CaseInventory inv = assembleFolder("siemens-duplicate-positions");
  EXPECT_TRUE(inv.stacks.empty());
  ASSERT_EQ(inv.set_aside.size(), 4u);
  for (const auto& a : inv.set_aside)
    EXPECT_NE(a.reason.find("4 images at one position with different pixels"), std::string::npos) << a.reason;
}

}  // namespace
}  // namespace ctd
