// The detector answers the same every time on the same renders; its shortcuts
// keep those answers: a detector built after another one
// was destroyed takes the loaded models it left (and two alive at once each
// have their own), and detectBeforeAfter gives what detect() gives on each set,
// also when a view is unchanged by defacing and is looked at only once.
#include <gtest/gtest.h>

#include <optional>

#include "QcTestSupport.h"
#include "phantom/PhantomGenerator.h"
#include "qc/FaceDetector.h"
#include "qc/SkinRenderer.h"

using namespace ctd;

namespace {

void expectSameHit(const qc::FaceHit& a, const qc::FaceHit& b) {
  EXPECT_EQ(a.detected, b.detected);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.view, b.view);
  EXPECT_EQ(a.cascade, b.cascade);
  EXPECT_EQ(a.box, b.box);
}

}  // namespace

TEST(DetectorReuse, PooledModelsAndBeforeAfterGiveTheSameAnswers) {
  const auto pc = phantom::makePhantom(qctest::faceInViewPose(5));
  VoxelMask mask = VoxelMask::like(pc.ct);
  for (std::size_t x = 0; x < mask.data.size(); ++x) {
    const auto l = pc.labels.data[x];
    mask.data[x] = l == phantom::Nose || l == phantom::Lips || l == phantom::Chin;
  }
  const qc::SkinRenderer ren;
  const auto g = qc::makeSkinGrid(pc.ct, &mask);
  const auto body = ren.body(g, g.hu);
  const std::vector<qc::View> views{qc::View::Front, qc::View::Left};
  const auto pair = ren.renderBeforeAfter(g, -1000, body, views);

  // Each call gets its own copy of the renders, so a detector that wrote into
  // them could not make the answers look stable (DetectorLooksOnly checks that).
  const auto fresh = [](const std::vector<qc::SkinImage>& views) {
    std::vector<qc::SkinImage> out;
    for (const auto& v : views) out.push_back({v.view, v.image.clone()});
    return out;
  };
  std::optional<qc::FaceDetector> first(std::in_place);
  const qc::FaceHit before = first->detect(fresh(pair.before)), after = first->detect(fresh(pair.after));
  EXPECT_TRUE(before.detected) << before.score << " " << before.cascade;
  expectSameHit(first->detect(fresh(pair.before)), before);  // and again: the same answer
  first.reset();  // its models go to the pool
  const qc::FaceDetector pooled, fresh_models;  // the pooled set, and a second one loaded anew
  expectSameHit(pooled.detect(fresh(pair.before)), before);
  expectSameHit(fresh_models.detect(fresh(pair.after)), after);

  const auto [b, a] = pooled.detectBeforeAfter(fresh(pair.before), fresh(pair.after));
  expectSameHit(b, before);
  expectSameHit(a, after);
  // Nothing defaced: after is before, each view looked at once, same answers.
  const auto [b2, a2] = fresh_models.detectBeforeAfter(fresh(pair.before), fresh(pair.before));
  expectSameHit(b2, before);
  expectSameHit(a2, before);
}

// Looking is read-only: the rolled views are warped into their own buffers, so
// the renders (which become the gallery PNGs) and later rolls see the original.
TEST(DetectorLooksOnly, RendersAreUnchangedByDetection) {
  const auto pc = phantom::makePhantom(qctest::faceInViewPose(7));
  const qc::SkinRenderer ren;
  const auto g = qc::makeSkinGrid(pc.ct, nullptr);
  const auto body = ren.body(g, g.hu);
  const auto views = ren.render(g, g.hu, body, {qc::View::Front, qc::View::LeftOblique});
  std::vector<cv::Mat> copies;
  for (const auto& v : views) copies.push_back(v.image.clone());
  const qc::FaceDetector det;
  const qc::FaceHit first = det.detect(views);
  for (std::size_t i = 0; i < views.size(); ++i)
    EXPECT_EQ(cv::norm(views[i].image, copies[i], cv::NORM_INF), 0.0) << "view " << i << " was written into";
  expectSameHit(det.detect(views), first);
}
