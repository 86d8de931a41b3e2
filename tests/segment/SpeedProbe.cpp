// Prints how long the geometric segmenter takes on a 512x512x300 phantom
// (a printout, not a timed assertion: the machine is shared).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {
namespace {

TEST(GeometricSpeed, PrintsTimeFor512x512x300) {
  phantom::PhantomSpec s;
  s.matrix = 512;
  s.pixel_spacing_mm = 0.5;
  s.slice_step_mm = 0.75;
  s.noise_hu = 10;
  auto t0 = std::chrono::steady_clock::now();
  const phantom::PhantomCase pc = phantom::makePhantom(s);
  auto t1 = std::chrono::steady_clock::now();
  GeometricSegmenter seg;
  const FaceSegmentation r = seg.segment(pc.ct);
  auto t2 = std::chrono::steady_clock::now();
  std::printf("phantom %zux%zux%zu generated in %.2f s, segmented in %.2f s (%zu face voxels)\n", pc.ct.nx, pc.ct.ny,
              pc.ct.nz, std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count(),
              r.mask.count());
  EXPECT_TRUE(r.face_in_view);
  EXPECT_GT(pc.ct.nz, 250u);
}

}  // namespace
}  // namespace ctd
