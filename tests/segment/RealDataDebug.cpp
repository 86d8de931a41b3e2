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
  std::printf("%zux%zux%zu note %s cavity %.0f ml at (%.1f %.1f %.1f) A (%.2f %.2f)\n", v.nx, v.ny, v.nz,
              r.note.c_str(), d.cavity_ml, d.cavity_centroid[0], d.cavity_centroid[1], d.cavity_centroid[2],
              d.anterior[0], d.anterior[1]);
  for (std::size_t k = 0; k < v.nz; ++k) {
    const Vec3 c = v.world(255.5, 255.5, k);
    std::printf("slice %zu centre (%.1f %.1f %.1f)\n", k, c[0], c[1], c[2]);
    testing::writeAxialPng(v, nullptr, k, testing::renderDir() / ("ge_" + std::to_string(k) + ".png"));
    testing::writeAxialPng(v, &r.mask, k, testing::renderDir() / ("ge_mask_" + std::to_string(k) + ".png"));
  }
}

}  // namespace
}  // namespace ctd
