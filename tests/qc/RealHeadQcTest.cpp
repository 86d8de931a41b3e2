// The real GE head (shared data: 28 thick, 18.5 degree tilted slices showing
// eyes, brow and nose): what the face detector says before and after the
// geometric segmenter. Reported, not asserted: no setting is tuned to this one
// case. What is asserted is that QC runs on a real tilted series and that its
// renders hold the head.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include "qc/PngFile.h"

#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "qc/SeriesQc.h"
#include "segment/GeometricSegmenter.h"

namespace fs = std::filesystem;
using namespace ctd;

TEST(RealHeadQc, GeHeadBeforeAndAfter) {
  const fs::path in = fs::path(CTD_SHARED_DATA) / "ct-head-ge-tilt";
  if (!fs::exists(in)) GTEST_SKIP() << "shared data not found: " << in;
  const Discovery d = discoverCases(in);
  ASSERT_FALSE(d.cases.empty());
  const CaseInventory inv = assembleCase(d.cases.front());
  ASSERT_FALSE(inv.stacks.empty());
  const Volume v = loadVolume(inv, inv.stacks.front());
  const FaceSegmentation seg = GeometricSegmenter().segment(v);
  const fs::path out = fs::path(CTD_BINARY_DIR) / "qc-ge-head";
  const qc::SeriesQc qc(out);
  const std::clock_t c0 = std::clock();
  const qc::SeriesQcResult r = qc.run(v, seg.mask, -1000, "ge-head", "ct");
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::cout << "GE head: " << seg.mask.count() << " voxels removed\n"
            << "  before: " << (r.before.detected ? "FACE" : "no face") << ", score " << r.before.score << ", view "
            << r.before.view << " (" << r.before.cascade << ")\n"
            << "  after:  " << (r.after.detected ? "FACE" : "no face") << ", score " << r.after.score << ", view "
            << r.after.view << " (" << r.after.cascade << ")\n"
            << "  render " << r.render_seconds << " s, detect " << r.detect_seconds << " s (wall); " << cpu
            << " s CPU in all (" << v.nx << " x " << v.ny << " x " << v.nz << ")\n"
            << "  " << (out / r.before_png).string() << "\n  " << (out / r.after_png).string() << "\n  "
            << (out / r.slices_png).string() << "\n";
  const cv::Mat before = qc::readPng(out / r.before_png);
  ASSERT_FALSE(before.empty());
  // Five views of a head ~150-200 mm wide at 1.5 mm per pixel.
  EXPECT_GT(before.cols, 5 * 80);
  EXPECT_GT(cv::countNonZero(before), before.total() / 5) << "the renders do not show the head";
}
