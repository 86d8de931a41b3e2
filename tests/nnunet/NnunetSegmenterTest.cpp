// NnunetSegmenter on Volumes: the series reaches nnU-Net as the original pipeline gave it
// ([k][j][i], spacing (slice gap, row, column)), tilted stacks go through their regular grid and
// the mask comes back on the native slices. The fixture model has random weights, so what is
// checked is the plumbing, against the predictor run directly on the same array.
#include <gtest/gtest.h>

#include <cmath>

#include "NnunetFixtures.h"
#include "segment/nnunet/NnunetSegmenter.h"
#include "volume/GridResampler.h"

using namespace ctd;
using namespace ctd::nnunet;
using namespace ctd::nnunet::testing;

namespace {

PredictorOptions oneThread() {
  PredictorOptions o;
  o.threads = 1;  // tests run side by side under ctest -j
  return o;
}

// A small regular head-like volume: an ellipsoid of soft tissue with a bony shell in air.
Volume headVolume(std::size_t nx, std::size_t ny, std::size_t nz, double px, double gap, double shear_mm_per_slice) {
  Volume v;
  v.nx = nx;
  v.ny = ny;
  v.nz = nz;
  v.col_spacing = v.row_spacing = px;
  v.hu.resize(v.voxelCount());
  for (std::size_t k = 0; k < nz; ++k) v.slice_pos.push_back({0.0, shear_mm_per_slice * static_cast<double>(k), gap * static_cast<double>(k)});
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        const double x = (static_cast<double>(i) - nx / 2.0) / (nx * 0.4), y = (static_cast<double>(j) - ny / 2.0) / (ny * 0.42),
                     z = (static_cast<double>(k) - nz / 2.0) / (nz * 0.6);
        const double r = std::sqrt(x * x + y * y + z * z);
        v.at(i, j, k) = r < 0.8 ? 40.0f + static_cast<float>(10 * std::sin(0.3 * static_cast<double>(i + j))) : r < 0.95 ? 900.0f : -1000.0f;
      }
  return v;
}

}  // namespace

TEST(NnunetSegmenter, RegularStackIsPredictedAsItIs) {
  const Volume v = headVolume(40, 44, 18, 2.0, 3.0, 0.0);
  NnunetSegmenter seg(fixtureDir() / "plain3d", oneThread(), "plain3d");
  EXPECT_EQ(seg.faceLabel(), 1);
  const FaceSegmentation out = seg.segment(v);
  ASSERT_EQ(out.mask.nx, v.nx);
  ASSERT_EQ(out.mask.ny, v.ny);
  ASSERT_EQ(out.mask.nz, v.nz);
  std::printf("note: %s\n", out.note.c_str());
  EXPECT_NE(out.note.find("face label 'face' = 1"), std::string::npos) << out.note;
  EXPECT_EQ(out.face_in_view, out.mask.count() > 0);

  // The same array through the predictor directly: identical labels.
  NnunetPredictor pred(fixtureDir() / "plain3d", oneThread());
  ImageGrid img(1, {18, 44, 40});
  std::copy(v.hu.begin(), v.hu.end(), img.data.begin());
  const ExportedPrediction p = pred.predict(img, {3.0, 2.0, 2.0});
  std::size_t diff = 0;
  for (std::size_t i = 0; i < p.labels.size(); ++i) diff += (p.labels[i] == 1) != (out.mask.data[i] != 0);
  EXPECT_EQ(diff, 0u);
}

TEST(NnunetSegmenter, TiltedStackGoesThroughItsRegularGrid) {
  // 10 degrees of gantry tilt: each slice steps 3 mm along the normal and 0.53 mm along Y.
  const Volume v = headVolume(36, 40, 14, 2.0, 3.0, 3.0 * std::tan(10.0 * M_PI / 180.0));
  NnunetSegmenter seg(fixtureDir() / "plain3d", oneThread(), "plain3d");
  const FaceSegmentation out = seg.segment(v);
  ASSERT_EQ(out.mask.nx, v.nx);
  ASSERT_EQ(out.mask.ny, v.ny);
  ASSERT_EQ(out.mask.nz, v.nz);
  std::printf("note: %s\n", out.note.c_str());
  EXPECT_NE(out.note.find("regular grid"), std::string::npos) << out.note;

  // Expected: predict on the regular grid, pull back with maskToNative.
  Volume grid = regularGridFor(v);
  resampleInto(v, grid, -1024.0f);
  NnunetPredictor pred(fixtureDir() / "plain3d", oneThread());
  ImageGrid img(1, {static_cast<std::int64_t>(grid.nz), static_cast<std::int64_t>(grid.ny), static_cast<std::int64_t>(grid.nx)});
  std::copy(grid.hu.begin(), grid.hu.end(), img.data.begin());
  const double gap = dot(grid.slice_pos.back() - grid.slice_pos.front(), grid.normal) / static_cast<double>(grid.nz - 1);
  const ExportedPrediction p = pred.predict(img, {gap, grid.row_spacing, grid.col_spacing});
  VoxelMask gm(grid.nx, grid.ny, grid.nz);
  for (std::size_t i = 0; i < gm.data.size(); ++i) gm.data[i] = p.labels[i] == 1;
  const VoxelMask expected = maskToNative(gm, grid, v);
  EXPECT_EQ(out.mask.data, expected.data);
  EXPECT_GT(out.mask.count(), 0u);
}

TEST(NnunetSegmenter, OnlyTheFaceLabelIsMasked) {
  // resenc has labels background, "Face" (1) and "ears" (2): ears must not be removed.
  const Volume v = headVolume(40, 36, 16, 2.0, 4.0, 0.0);
  NnunetSegmenter seg(fixtureDir() / "resenc", oneThread(), "resenc");
  EXPECT_EQ(seg.faceLabel(), 1);
  const FaceSegmentation out = seg.segment(v);
  NnunetPredictor pred(fixtureDir() / "resenc", oneThread());
  ImageGrid img(1, {16, 36, 40});
  std::copy(v.hu.begin(), v.hu.end(), img.data.begin());
  const ExportedPrediction p = pred.predict(img, {4.0, 2.0, 2.0});
  std::size_t face = 0, ears = 0;
  for (auto l : p.labels) {
    face += l == 1;
    ears += l == 2;
  }
  std::printf("face %zu, ears %zu voxels; %s\n", face, ears, out.note.c_str());
  EXPECT_GT(ears, 0u);
  EXPECT_EQ(out.mask.count(), face);
  EXPECT_EQ(out.face_in_view, face > 0);
  if (face == 0) {
    EXPECT_NE(out.note.find("no face in view"), std::string::npos);
  }
}
