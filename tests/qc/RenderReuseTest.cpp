// SkinRenderer::renderBeforeAfter casts again only the after-rays that came
// near the face mask and reuses the rest: its images must be the very bytes
// render() gives on grid.hu and on grid.defacedValues(), for a mask over the
// whole lower face and for one that is empty.
#include <gtest/gtest.h>

#include "QcTestSupport.h"
#include "phantom/PhantomGenerator.h"
#include "qc/SkinRenderer.h"

using namespace ctd;

namespace {

void expectSameImages(const std::vector<qc::SkinImage>& a, const std::vector<qc::SkinImage>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t v = 0; v < a.size(); ++v) {
    SCOPED_TRACE(std::string(what) + " " + qc::toString(a[v].view));
    EXPECT_EQ(a[v].view, b[v].view);
    ASSERT_EQ(a[v].image.size(), b[v].image.size());
    EXPECT_EQ(cv::norm(a[v].image, b[v].image, cv::NORM_INF), 0);
  }
}

}  // namespace

TEST(RenderReuse, BeforeAfterEqualsTwoFullRenders) {
  const auto pc = phantom::makePhantom(qctest::faceInViewPose(3));
  VoxelMask mask = VoxelMask::like(pc.ct);
  std::size_t n = 0;
  for (std::size_t x = 0; x < mask.data.size(); ++x) {
    const auto l = pc.labels.data[x];
    mask.data[x] = l == phantom::Nose || l == phantom::Lips || l == phantom::Chin || l == phantom::Globe;
    n += mask.data[x];
  }
  ASSERT_GT(n, 1000u);
  const qc::SkinRenderer ren;
  const auto g = qc::makeSkinGrid(pc.ct, &mask);
  const auto body = ren.body(g, g.hu);
  ASSERT_FALSE(body.empty());
  for (double fill : {-1000.0, 0.0}) {
    const auto pair = ren.renderBeforeAfter(g, fill, body, qc::allViews());
    const auto before = ren.render(g, g.hu, body, qc::allViews());
    const auto after = ren.render(g, g.defacedValues(fill), body, qc::allViews());
    expectSameImages(pair.before, before, "before");
    expectSameImages(pair.after, after, "after");
    // Defacing did change what the front view shows (else the test proves little).
    EXPECT_GT(cv::norm(before[2].image, after[2].image, cv::NORM_L1), 0);
  }
  const auto none = qc::makeSkinGrid(pc.ct, nullptr);
  const auto pair = ren.renderBeforeAfter(none, -1000, body, {qc::View::Front});
  expectSameImages(pair.after, pair.before, "no mask");
}
