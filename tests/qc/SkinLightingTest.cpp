// The renderer's key light from above and its cast shadows: a ledge over a
// wall (a brow over the eyes) shades the wall just under it and nothing else.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "qc/SkinRenderer.h"

using namespace ctd;

namespace {

// A slab facing the viewer (anterior = low y) with a ledge 15 mm deep sticking
// out of it near its top (13.5 mm thick: SkinRenderer::body drops thinner shells).
qc::SkinGrid ledgeGrid() {
  qc::SkinGrid g;
  g.nx = g.ny = g.nz = 60;
  g.spacing = 1.5;
  g.hu.assign(g.nx * g.ny * g.nz, -1000.0f);
  g.mask.assign(g.hu.size(), 0.0f);
  for (std::size_t k = 10; k < 50; ++k)
    for (std::size_t j = 20; j < 50; ++j)
      for (std::size_t i = 10; i < 50; ++i)
        if (j >= 30 || (k >= 34 && k < 43)) g.hu[g.index(i, j, k)] = 40.0f;
  return g;
}

cv::Mat front(const qc::SkinGrid& g, double elevation, double shadow_mm) {
  qc::RenderOptions o;
  o.light_elevation_deg = elevation;
  o.shadow_mm = shadow_mm;
  const qc::SkinRenderer r(o);
  return r.render(g, g.hu, r.body(g, g.hu), {qc::View::Front}).at(0).image;
}

}  // namespace

TEST(SkinLighting, LedgeCastsShadowOnlyBelowIt) {
  const qc::SkinGrid g = ledgeGrid();
  const cv::Mat lit = front(g, 35, 0), shaded = front(g, 35, 40);
  ASSERT_EQ(lit.size(), shaded.size());
  int darker = 0, brighter = 0, lowest_dark_row = -1, highest_dark_row = lit.rows;
  for (int r = 0; r < lit.rows; ++r)
    for (int c = 0; c < lit.cols; ++c) {
      const int a = lit.at<std::uint8_t>(r, c), b = shaded.at<std::uint8_t>(r, c);
      brighter += b > a;
      if (a - b > 30) {
        ++darker;
        lowest_dark_row = std::max(lowest_dark_row, r);
        highest_dark_row = std::min(highest_dark_row, r);
      }
    }
  EXPECT_EQ(brighter, 0);
  // The wall under the ledge, 40 voxels wide (~40 px) and several mm high.
  EXPECT_GT(darker, 150);
  // Light 35 degrees above the view: a 15 mm ledge shades ~10.5 mm (7 px) of
  // wall under it, never the lower part of the slab (rows are 1.5 mm, top = superior).
  EXPECT_LT(lowest_dark_row - highest_dark_row, 14);
  int slab_bottom = 0;
  for (int r = 0; r < lit.rows; ++r)
    if (lit.at<std::uint8_t>(r, lit.cols / 2) > 0) slab_bottom = r;
  EXPECT_GT(slab_bottom - lowest_dark_row, 10);
}

TEST(SkinLighting, LightFromAboveDarkensDownwardFaces) {
  // The wall faces the viewer: lit from 35 degrees above it gets cos 35 of the
  // light it gets head-on.
  const qc::SkinGrid g = ledgeGrid();
  const cv::Mat head_on = front(g, 0, 0), above = front(g, 35, 0);
  ASSERT_EQ(head_on.size(), above.size());
  const int r = head_on.rows * 3 / 4, c = head_on.cols / 2;  // on the wall, below the ledge
  EXPECT_GT(head_on.at<std::uint8_t>(r, c), above.at<std::uint8_t>(r, c) + 20);
}
