// Renders the real GE head with the geometric mask (CTD_RENDER_DIR) for checking by eye.
#include <gtest/gtest.h>

#include <cstdio>

#include "SliceRender.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {
namespace {

TEST(GeometricRealDebug, RendersGeHead) {
  if (testing::renderDir().empty()) GTEST_SKIP() << "set CTD_RENDER_DIR";
  const auto disc = discoverCases(std::filesystem::path(CTD_SHARED_DATA) / "ct-head-ge-tilt");
  const CaseInventory inv = assembleCase(disc.cases.at(0));
  const Volume v = loadVolume(inv, inv.stacks.at(0));
  GeometricSegmenter seg;
  const auto r = seg.segment(v);
  const auto& d = seg.diagnostics();
  std::printf("%zux%zux%zu note %s cavity %.0f ml at (%.1f %.1f %.1f) A (%.2f %.2f) nose %.1f mm, %d slices\n",
              v.nx, v.ny, v.nz, r.note.c_str(), d.cavity_ml, d.cavity_centroid[0], d.cavity_centroid[1],
              d.cavity_centroid[2], d.anterior[0], d.anterior[1], d.nose_protrusion_mm, d.nose_slices);
  // Skin points for the landmark file: first pixel > -400 HU walking along a row or column.
  auto down = [&](std::size_t k, long i) {
    for (long j = 0; j < static_cast<long>(v.ny); ++j)
      if (v.at(i, j, k) > -400) {
        const Vec3 p = v.world(i, j, k);
        std::printf("down slice %zu col %ld row %ld -> (%.1f, %.1f, %.1f) masked %d\n", k, i, j, p[0], p[1], p[2],
                    r.mask.at(i, j, k));
        return;
      }
  };
  auto outward = [&](std::size_t k, long j, long i0, long step) {
    long last = -1;
    int air = 0;
    for (long i = i0; i >= 0 && i < static_cast<long>(v.nx); i += step) {
      if (v.at(i, j, k) > -400) last = i, air = 0;
      else if (last >= 0 && ++air >= 8) break;
    }
    const Vec3 p = v.world(last, j, k);
    std::printf("out slice %zu row %ld -> col %ld (%.1f, %.1f, %.1f) masked %d\n", k, j, last, p[0], p[1], p[2],
                r.mask.at(last, j, k));
  };
  down(6, 140), down(6, 292), down(6, 225), down(7, 225), down(0, 197), down(2, 205);
  outward(6, 320, 200, -1), outward(6, 265, 300, 1), outward(7, 320, 200, -1), outward(7, 265, 300, 1);
  for (std::size_t k = 0; k < v.nz; ++k) {
    const Vec3 c = v.world(255.5, 255.5, k);
    // Most anterior body pixel (first row from the top with HU > -400) per column band.
    long best_i = -1, best_j = 100000;
    for (std::size_t j = 0; j < v.ny && best_i < 0; ++j)
      for (std::size_t i = 150; i < 360; ++i)
        if (v.at(i, j, k) > -400) {
          best_i = static_cast<long>(i), best_j = static_cast<long>(j);
          break;
        }
    const Vec3 a = best_i >= 0 ? v.world(best_i, best_j, k) : Vec3{0, 0, 0};
    std::printf("slice %zu centre (%.1f %.1f %.1f) front pixel (%ld,%ld) at (%.1f %.1f %.1f) masked %d\n", k, c[0],
                c[1], c[2], best_i, best_j, a[0], a[1], a[2], best_i >= 0 ? r.mask.at(best_i, best_j, k) : -1);
    testing::writeAxialPng(v, nullptr, k, testing::renderDir() / ("ge_" + std::to_string(k) + ".png"));
    testing::writeAxialPng(v, &r.mask, k, testing::renderDir() / ("ge_mask_" + std::to_string(k) + ".png"));
  }
}

}  // namespace
}  // namespace ctd
