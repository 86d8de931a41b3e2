// Prints the segmenter's view of chosen phantom seeds (CTD_DEBUG_SEEDS="4,5,6").
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "SliceRender.h"
#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {
namespace {

TEST(GeometricDebug, PrintsChosenSeeds) {
  const char* env = std::getenv("CTD_DEBUG_SEEDS");
  if (!env) GTEST_SKIP() << "set CTD_DEBUG_SEEDS";
  std::stringstream ss(env);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    phantom::PhantomSpec s = phantom::PhantomSpec::random(static_cast<unsigned>(std::stoul(tok)));
    s.pixel_spacing_mm = 1.0 + 0.5 * (s.pixel_spacing_mm - 0.5);  // as PhantomRandomPosesTest's budgeted()
    s.matrix = static_cast<std::size_t>(std::ceil((s.scale < 1 ? 200.0 : 250.0) / s.pixel_spacing_mm));
    s.slice_step_mm = std::max(s.slice_step_mm, 2.0);
    const auto pc = phantom::makePhantom(s);
    GeometricSegmenter seg;
    const auto r = seg.segment(pc.ct);
    const auto& d = seg.diagnostics();
    const double y = s.yaw_deg * M_PI / 180;
    std::printf("%s\n  note: %s\n  cavity %.0f ml at (%.1f %.1f %.1f) A=(%.2f %.2f) true yaw-A=(%.2f %.2f) face %.1f ml zlow %.1f\n",
                s.describe().c_str(), r.note.c_str(), d.cavity_ml, d.cavity_centroid[0], d.cavity_centroid[1],
                d.cavity_centroid[2], d.anterior[0], d.anterior[1], std::sin(y), -std::cos(y), d.face_surface_ml,
                d.lowest_face_bone_z);
    for (std::size_t k = 0; k < std::min<std::size_t>(pc.ct.nz, 14); ++k) {
      std::size_t m = 0, b = 0;
      for (std::size_t q = 0; q < pc.ct.nx * pc.ct.ny; ++q) {
        m += r.mask.data[k * pc.ct.nx * pc.ct.ny + q];
        b += phantom::isBody(pc.labels.data[k * pc.ct.nx * pc.ct.ny + q]);
      }
      std::printf("  slice %zu z %.1f masked %zu body %zu\n", k, pc.ct.slice_pos[k][2], m, b);
    }
    std::size_t worst = 0, worst_n = 0;
    for (std::size_t k = 0; k < pc.ct.nz; ++k) {
      std::size_t m = 0;
      for (std::size_t q = 0; q < pc.ct.nx * pc.ct.ny; ++q) {
        const std::size_t idx = k * pc.ct.nx * pc.ct.ny + q;
        m += r.mask.data[idx] && pc.labels.data[idx] == phantom::CranialCavity;
      }
      if (m > worst_n) worst_n = m, worst = k;
    }
    std::printf("  most masked cavity voxels: %zu in slice %zu of %zu\n", worst_n, worst, pc.ct.nz);
    if (!testing::renderDir().empty()) {
      const Vec3 tip = *pc.landmark("nose_tip");
      std::size_t kt = 0;
      for (std::size_t k = 0; k < pc.ct.nz; ++k)
        if (std::abs(dot(pc.ct.slice_pos[k] - tip, pc.ct.normal)) < std::abs(dot(pc.ct.slice_pos[kt] - tip, pc.ct.normal)))
          kt = k;
      std::printf("  nose slice %zu\n", kt);
      testing::writeAxialPng(pc.ct, &r.mask, kt, testing::renderDir() / ("dbg" + tok + "_nose.png"));
      testing::writeAxialPng(pc.ct, &r.mask, worst, testing::renderDir() / ("dbg" + tok + ".png"));
      VoxelMask lab = pc.labels;
      Volume lv = pc.ct;
      for (std::size_t q = 0; q < lv.hu.size(); ++q) lv.hu[q] = pc.labels.data[q] == phantom::CranialCavity ? 100 : 0;
      testing::writeAxialPng(lv, &r.mask, worst, testing::renderDir() / ("dbg" + tok + "_cav.png"), -100, 200);
    }
    for (const auto& l : pc.landmarks) std::printf("  %s (%.1f %.1f %.1f)\n", l.name.c_str(), l.lps[0], l.lps[1], l.lps[2]);
  }
}

}  // namespace
}  // namespace ctd
