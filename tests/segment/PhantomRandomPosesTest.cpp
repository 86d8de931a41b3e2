// The geometric segmenter against >= 50 random phantom poses, fields of view
// and acquisitions (fixed seeds): face landmarks in view removed with a 5 mm
// margin, no cranial-cavity voxel touched, ears kept, no face -> empty mask.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "FaceRules.h"
#include "SliceRender.h"
#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {
namespace {

using phantom::PhantomCase;
using phantom::PhantomFov;
using phantom::PhantomSpec;

const char* kFaceLandmarks[] = {"nose_tip", "nasion", "eyelid_left", "eyelid_right", "upper_lip", "lower_lip", "chin"};
const char* kEars[] = {"tragus_left", "tragus_right"};

std::size_t cavityVoxelsMasked(const PhantomCase& pc, const VoxelMask& m) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < m.data.size(); ++i) n += m.data[i] && pc.labels.data[i] == phantom::CranialCavity;
  return n;
}

void renderAt(const PhantomCase& pc, const FaceSegmentation& seg, const Vec3& p, const std::string& tag) {
  std::size_t best = 0;
  for (std::size_t k = 0; k < pc.ct.nz; ++k)
    if (std::abs(dot(pc.ct.slice_pos[k] - p, pc.ct.normal)) < std::abs(dot(pc.ct.slice_pos[best] - p, pc.ct.normal)))
      best = k;
  testing::writeAxialPng(pc.ct, &seg.mask, best, testing::renderDir() / (tag + ".png"));
}

// Checks every rule on one case; returns the number of landmarks checked.
int checkCase(const PhantomCase& pc, const FaceSegmentation& seg, bool ears_removed) {
  const std::string what = pc.spec.describe();
  EXPECT_EQ(seg.mask.data.size(), pc.ct.hu.size()) << what;
  EXPECT_EQ(cavityVoxelsMasked(pc, seg.mask), 0u) << what;
  auto tissue = [&](std::size_t idx) { return phantom::isBody(pc.labels.data[idx]); };
  int checked = 0;
  bool face_landmark_in_view = false;
  for (const char* name : kFaceLandmarks) {
    const Vec3 p = *pc.landmark(name);
    if (!testing::inFieldOfView(pc.ct, p)) continue;
    face_landmark_in_view = true;
    const auto c = testing::countNear(pc.ct, seg.mask, p, 5.0, tissue);
    EXPECT_EQ(c.unmasked, 0u) << name << " (" << c.tissue << " tissue voxels within 5 mm) " << what << " | "
                              << seg.note;
    if (c.unmasked && !testing::renderDir().empty()) renderAt(pc, seg, p, "seed" + std::to_string(pc.spec.seed) + "_" + name);
    ++checked;
  }
  for (const char* name : kEars) {
    const Vec3 p = *pc.landmark(name);
    if (!testing::inFieldOfView(pc.ct, p)) continue;
    const auto c = testing::countNear(pc.ct, seg.mask, p, 5.0, tissue);
    if (ears_removed)
      EXPECT_EQ(c.unmasked, 0u) << name << " " << what;
    else
      EXPECT_EQ(c.masked_any, 0u) << name << " touched without remove_ears " << what;
    ++checked;
  }
  if (pc.spec.fov == PhantomFov::FaceOutside || pc.spec.fov == PhantomFov::NeckOnly) {
    EXPECT_FALSE(seg.face_in_view) << what;
    EXPECT_EQ(seg.mask.count(), 0u) << what;
  } else if (face_landmark_in_view) {
    EXPECT_TRUE(seg.face_in_view) << what << " | " << seg.note;
  }
  return checked;
}

void render(const PhantomCase& pc, const FaceSegmentation& seg, const std::string& tag) {
  const auto dir = testing::renderDir();
  if (dir.empty()) return;
  testing::writeSagittalPng(pc.ct, &seg.mask, pc.spec.translation[0], dir / (tag + "_sag.png"));
  const auto tip = *pc.landmark("nose_tip");
  std::size_t best = 0;
  for (std::size_t k = 0; k < pc.ct.nz; ++k)
    if (std::abs(pc.ct.slice_pos[k][2] - tip[2]) < std::abs(pc.ct.slice_pos[best][2] - tip[2])) best = k;
  testing::writeAxialPng(pc.ct, &seg.mask, best, dir / (tag + "_ax_nose.png"));
}

// Keeps each random case small enough for the suite's time budget while still
// drawing thickness, spacing, tilt, pose and field of view at random.
PhantomSpec budgeted(unsigned seed) {
  PhantomSpec s = PhantomSpec::random(seed);
  s.pixel_spacing_mm = 1.0 + 0.5 * (s.pixel_spacing_mm - 0.5);  // 1.0 .. 1.25 mm
  s.matrix = static_cast<std::size_t>(std::ceil((s.scale < 1 ? 200.0 : 250.0) / s.pixel_spacing_mm));
  s.slice_step_mm = std::max(s.slice_step_mm, 2.0);
  return s;
}

// Landmarks a case's field of view holds (face and ears), from the layout alone.
int landmarksInView(const PhantomCase& pc, bool& face_in_view) {
  int n = 0;
  face_in_view = false;
  for (const char* name : kFaceLandmarks)
    if (testing::inFieldOfView(pc.ct, *pc.landmark(name))) ++n, face_in_view = true;
  for (const char* name : kEars) n += testing::inFieldOfView(pc.ct, *pc.landmark(name));
  return n;
}

// The 50 seeds run as ten tests of five seeds each, so that ctest runs them in
// parallel processes. Each block checks every landmark in view and finds a
// face in every case with a face landmark in view; RandomSeedsHoldEnoughFaces
// asserts over all 50 seeds that these amount to > 150 landmarks and > 25 faces.
void runSeeds(unsigned first) {
  GeometricSegmenter seg;
  int checked = 0, in_view = 0, with_face = 0, face_cases = 0;
  double worst = 0, generating = 0;
  for (unsigned seed = first; seed < first + 5; ++seed) {
    const auto tg = std::chrono::steady_clock::now();
    const PhantomCase pc = phantom::makePhantom(budgeted(seed));
    const auto t0 = std::chrono::steady_clock::now();
    generating += std::chrono::duration<double>(t0 - tg).count();
    const FaceSegmentation r = seg.segment(pc.ct);
    worst = std::max(worst, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    checked += checkCase(pc, r, false);
    bool face = false;
    in_view += landmarksInView(pc, face);
    face_cases += face;
    with_face += r.face_in_view && face;
    if (::testing::Test::HasFailure() || !testing::renderDir().empty()) render(pc, r, "seed" + std::to_string(seed));
  }
  std::printf("seeds %u-%u: landmarks checked %d, cases with a face %d, slowest segmentation %.2f s, phantoms %.2f s\n",
              first, first + 4, checked, with_face, worst, generating);
  EXPECT_EQ(checked, in_view);
  EXPECT_EQ(with_face, face_cases);
}

TEST(GeometricOnPhantoms, RandomSeedsHoldEnoughFaces) {
  int in_view = 0, face_cases = 0;
  for (unsigned seed = 1; seed <= 50; ++seed) {
    bool face = false;
    in_view += landmarksInView(phantom::makePhantomLayout(budgeted(seed)), face);
    face_cases += face;
  }
  EXPECT_GT(in_view, 150);
  EXPECT_GT(face_cases, 25);
}

TEST(GeometricOnPhantoms, RandomPosesSeeds1To5) { runSeeds(1); }
TEST(GeometricOnPhantoms, RandomPosesSeeds6To10) { runSeeds(6); }
TEST(GeometricOnPhantoms, RandomPosesSeeds11To15) { runSeeds(11); }
TEST(GeometricOnPhantoms, RandomPosesSeeds16To20) { runSeeds(16); }
TEST(GeometricOnPhantoms, RandomPosesSeeds21To25) { runSeeds(21); }
TEST(GeometricOnPhantoms, RandomPosesSeeds26To30) { runSeeds(26); }
TEST(GeometricOnPhantoms, RandomPosesSeeds31To35) { runSeeds(31); }
TEST(GeometricOnPhantoms, RandomPosesSeeds36To40) { runSeeds(36); }
TEST(GeometricOnPhantoms, RandomPosesSeeds41To45) { runSeeds(41); }
TEST(GeometricOnPhantoms, RandomPosesSeeds46To50) { runSeeds(46); }

}  // namespace
}  // namespace ctd
