// Series assembly and loading on the real GE (tilted) and Philips (multi-series) data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "DicomTestSupport.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"

namespace ctd {
namespace {

bool anyContains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

// Index of the file whose ImagePositionPatient (GDCM's origin) is `pos`.
std::filesystem::path fileAt(const CaseInventory& inv, const Vec3& pos) {
  for (const auto& inst : inv.instances) {
    gdcm::ImageReader r;
    r.SetFileName(inst.path.string().c_str());
    if (!r.Read()) continue;
    const double* o = r.GetImage().GetOrigin();
    if (std::abs(o[0] - pos[0]) < 1e-4 && std::abs(o[1] - pos[1]) < 1e-4 && std::abs(o[2] - pos[2]) < 1e-4)
      return inst.path;
  }
  return {};
}

TEST(RealSeries, GeTiltedHeadIsOneShearedUnevenStack) {
  const auto dir = test::sharedData("ct-head-ge-tilt");
  const Discovery d = discoverCases(dir);
  ASSERT_TRUE(d.single_case);
  ASSERT_EQ(d.cases.size(), 1u);
  EXPECT_EQ(d.cases[0].files.size(), 28u);
  const CaseInventory inv = assembleCase(d.cases[0]);
  ASSERT_EQ(inv.stacks.size(), 1u);
  EXPECT_TRUE(inv.set_aside.empty());
  EXPECT_TRUE(inv.skipped.empty());
  const SeriesStack& s = inv.stacks[0];
  EXPECT_EQ(s.slices.size(), 28u);
  EXPECT_TRUE(anyContains(s.warnings, "gantry tilt 18.5")) << ::testing::PrintToString(s.warnings);
  EXPECT_TRUE(anyContains(s.warnings, "non-uniform slice spacing"));

  const Volume v = loadVolume(inv, s);
  ASSERT_EQ(v.nx, 512u);
  ASSERT_EQ(v.ny, 512u);
  ASSERT_EQ(v.nz, 28u);
  EXPECT_NEAR(v.col_spacing, 0.4882812, 1e-7);
  EXPECT_NEAR(v.normal[1], 0.3173047, 1e-6);
  EXPECT_NEAR(v.normal[2], 0.9483237, 1e-6);
  // Gaps along the normal: 13 x 4 mm, 1 x 1.08 mm, 13 x 7 mm.
  int four = 0, seven = 0, short_gap = 0;
  for (std::size_t k = 0; k + 1 < v.nz; ++k) {
    const double g = dot(v.slice_pos[k + 1] - v.slice_pos[k], v.normal);
    ASSERT_GT(g, 0);
    four += std::abs(g - 4.0) < 0.01;
    seven += std::abs(g - 7.0) < 0.01;
    short_gap += std::abs(g - 1.08) < 0.01;
  }
  EXPECT_EQ(four, 13);
  EXPECT_EQ(seven, 13);
  EXPECT_EQ(short_gap, 1);
  // Shear: the first-to-last step is 18.5 deg off the normal.
  const Vec3 step = v.slice_pos.back() - v.slice_pos.front();
  EXPECT_NEAR(std::acos(dot(step, v.normal) / norm(step)) * 180 / M_PI, 18.5, 0.1);

  // HU = stored (intercept 0), checked against GDCM read of the file at that position.
  const std::size_t probes[][3] = {{256, 256, 0}, {100, 300, 5}, {400, 200, 14}, {256, 100, 27}, {0, 0, 20}};
  for (const auto& p : probes) {
    const auto file = fileAt(inv, v.slice_pos[p[2]]);
    ASSERT_FALSE(file.empty());
    EXPECT_EQ(v.at(p[0], p[1], p[2]), float(test::gdcmStoredValue(file, unsigned(p[1]), unsigned(p[0]))))
        << file << " i=" << p[0] << " j=" << p[1];
  }
}

TEST(RealSeries, PhilipsStudyKeepsOnlyTheAxialCtAndSetsTheRestAside) {
  const auto dir = test::sharedData("ct-phantom-philips-multiseries");
  const Discovery d = discoverCases(dir);
  ASSERT_TRUE(d.single_case);
  ASSERT_EQ(d.cases.size(), 1u);
  const CaseInventory inv = assembleCase(d.cases[0]);
  ASSERT_EQ(inv.stacks.size(), 1u);
  const SeriesStack& s = inv.stacks[0];
  EXPECT_EQ(s.slices.size(), 28u);
  EXPECT_EQ(s.name, "201_STD_BRAIN_5MM");
  for (const auto& slice : s.slices)
    EXPECT_EQ(inv.instances[slice.instance].relative.parent_path(), std::filesystem::path("S21570/S2010"));

  std::size_t dirs = 0, localizers = 0, captures = 0;
  for (const auto& a : inv.set_aside) {
    const std::string rel = a.path.lexically_relative(dir).string();
    if (a.path.filename() == "DICOMDIR" || a.path.filename() == "DIRFILE") {
      ++dirs;
      EXPECT_NE(a.reason.find("DICOMDIR"), std::string::npos) << a.reason;
    } else if (rel.rfind("S21570/S1000/", 0) == 0) {
      ++localizers;
      EXPECT_EQ(a.reason, "localizer (ImageType ORIGINAL\\PRIMARY\\LOCALIZER)");
    } else if (rel.rfind("S21570/S4010/", 0) == 0) {
      ++captures;
      EXPECT_NE(a.reason.find("capture"), std::string::npos) << a.reason;
    } else {
      ADD_FAILURE() << "unexpected set-aside file " << rel << ": " << a.reason;
    }
  }
  EXPECT_EQ(dirs, 5u);  // DICOMDIR + 4 DIRFILEs
  EXPECT_EQ(localizers, 1u);
  EXPECT_EQ(captures, 6u);
  EXPECT_TRUE(inv.skipped.empty());

  const Volume v = loadVolume(inv, s);
  ASSERT_EQ(v.nz, 28u);
  EXPECT_NEAR(v.row_spacing, 0.451171875, 1e-9);
  for (std::size_t k = 0; k + 1 < v.nz; ++k) EXPECT_NEAR(v.slice_pos[k + 1][2] - v.slice_pos[k][2], 5.0, 1e-3);
  const std::size_t probes[][3] = {{256, 256, 3}, {10, 20, 0}, {300, 200, 27}};
  for (const auto& p : probes) {
    const auto file = fileAt(inv, v.slice_pos[p[2]]);
    ASSERT_FALSE(file.empty());
    EXPECT_EQ(v.at(p[0], p[1], p[2]), float(test::gdcmStoredValue(file, unsigned(p[1]), unsigned(p[0])) - 1024));
  }
}

}  // namespace
}  // namespace ctd
