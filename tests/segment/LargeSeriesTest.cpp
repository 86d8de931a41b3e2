// The geometric segmenter on a full-size series (512 x 512 x ~300, 0.5 mm
// pixels): the coarse grid, the smooth pull-back and the guards at the sizes
// users' head CTs have. Its time is measured by bench/bench_segment and
// bench/run_deface_bench.sh, not here.
#include <gtest/gtest.h>

#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {
namespace {

TEST(GeometricOnLargeSeries, FindsTheFaceAndLeavesTheCavityOn512x512x300) {
  phantom::PhantomSpec s;
  s.matrix = 512;
  s.pixel_spacing_mm = 0.5;
  s.slice_step_mm = 0.75;
  s.noise_hu = 10;
  const phantom::PhantomCase pc = phantom::makePhantom(s);
  ASSERT_GT(pc.ct.nz, 250u);
  const FaceSegmentation r = GeometricSegmenter().segment(pc.ct);
  ASSERT_TRUE(r.face_in_view) << r.note;
  std::size_t cavity = 0, lower_face = 0, lower_face_left = 0;
  for (std::size_t i = 0; i < r.mask.data.size(); ++i) {
    cavity += r.mask.data[i] && pc.labels.data[i] == phantom::CranialCavity;
    if (pc.labels.data[i] == phantom::Lips || pc.labels.data[i] == phantom::Chin)
      ++lower_face, lower_face_left += !r.mask.data[i];
  }
  EXPECT_EQ(cavity, 0u);
  EXPECT_GT(lower_face, 10000u);
  EXPECT_EQ(lower_face_left, 0u) << "of " << lower_face << " lip and chin voxels";
}

}  // namespace
}  // namespace ctd
