// Debug probe (skipped unless CTD_QC_HOGPROBE names an output folder): renders
// the real Slicer and GE heads and phantom seeds CTD_QC_SEED0.. (CTD_QC_COUNT)
// before and after the geometric segmenter and prints, per view, the best
// dlib HOG margin with every roll tried. For choosing settings on seeds
// disjoint from the acceptance seeds; not an acceptance test.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include "qc/PngFile.h"
#include <opencv2/imgproc.hpp>

#include "QcTestSupport.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "pipeline/HuCalibration.h"
#include "qc/FaceDetector.h"
#include "qc/SkinRenderer.h"
#include "segment/GeometricSegmenter.h"

namespace fs = std::filesystem;
using namespace ctd;

namespace {

double envOr(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : fallback;
}

Volume loadReal(const fs::path& in) {
  const Discovery d = discoverCases(in);
  const CaseInventory inv = assembleCase(d.cases.front());
  Volume v = loadVolume(inv, inv.stacks.front());
  const HuCalibration cal = checkHuCalibration(v);
  for (float& x : v.hu) x -= static_cast<float>(cal.offset);
  return v;
}

void probe(const Volume& v, const std::string& name, const fs::path& out, const qc::SkinRenderer& renderer,
           const qc::FaceDetector& detector) {
  GeometricOptions gopt;
  gopt.face_depth_mm = envOr("CTD_QC_DEPTH", gopt.face_depth_mm);
  const auto seg = GeometricSegmenter(gopt).segment(v);
  const auto t0 = std::chrono::steady_clock::now();
  const qc::SkinGrid g = qc::makeSkinGrid(v, &seg.mask);
  const auto body = renderer.body(g, g.hu);
  const auto before = renderer.render(g, g.hu, body, qc::allViews());
  const auto after = renderer.render(g, g.defacedValues(-1000), body, qc::allViews());
  const auto t1 = std::chrono::steady_clock::now();
  std::cout << "CASE," << name << ",render," << std::chrono::duration<double>(t1 - t0).count();
  for (int phase = 0; phase < 2; ++phase) {
    auto views = phase ? after : before;
    double best = -9;
    std::string where;
    double haar_front = 0, haar_profile = 0;
    for (auto& s : views) {
      double vb = -9;
      std::string how;
      for (const auto& h : detector.detectAll(s.image, s.view)) {
        if (h.cascade.rfind("haarcascade_frontal", 0) == 0) haar_front = std::max(haar_front, h.score);
        else if (h.cascade.rfind("haarcascade_profile", 0) == 0) haar_profile = std::max(haar_profile, h.score);
        else if (h.score > vb) vb = h.score, how = h.cascade;
      }
      std::cout << "," << qc::toString(s.view) << "=" << vb;
      if (vb > best) best = vb, where = std::string(qc::toString(s.view)) + " " + how;
    }
    std::cout << ",BEST_" << (phase ? "AFTER," : "BEFORE,") << best << "," << where << ",HAAR," << haar_front << ","
              << haar_profile;
    const auto t2 = std::chrono::steady_clock::now();
    if (phase) std::cout << ",detect2," << std::chrono::duration<double>(t2 - t1).count();
    qc::writePng((out / (name + (phase ? "_after.png" : "_before.png"))), qc::sideBySide(views));
  }
  std::cout << "\n";
}

}  // namespace

TEST(QcProbe, HogScores) {
  const char* dir = std::getenv("CTD_QC_HOGPROBE");
  if (!dir) GTEST_SKIP() << "set CTD_QC_HOGPROBE=<folder> to write renders and print HOG scores";
  const fs::path out = dir;
  fs::create_directories(out);
  qc::RenderOptions ropt;
  ropt.light_elevation_deg = envOr("CTD_QC_ELEV", ropt.light_elevation_deg);
  ropt.shadow_mm = envOr("CTD_QC_SHADOW", ropt.shadow_mm);
  ropt.pixel_mm = envOr("CTD_QC_PX", ropt.pixel_mm);
  qc::DetectorOptions dopt;
  dopt.pixel_mm = ropt.pixel_mm;
  dopt.hog_pixel_mm = envOr("CTD_QC_HOGPX", dopt.hog_pixel_mm);
  if (std::getenv("CTD_QC_NOROLL")) dopt.roll_deg = {0};
  dopt.haar = std::getenv("CTD_QC_HAAR") != nullptr;
  dopt.min_hog_score = envOr("CTD_QC_MINHOG", dopt.min_hog_score);
  const qc::SkinRenderer renderer(ropt);
  const qc::FaceDetector detector(dopt);
  if (!std::getenv("CTD_QC_NOREAL")) {
    probe(loadReal(fs::path(CTD_SHARED_DATA) / "ct-head-fullface-slicer" / "dicom"), "slicer", out, renderer, detector);
    probe(loadReal(fs::path(CTD_SHARED_DATA) / "ct-head-ge-tilt"), "ge", out, renderer, detector);
  }
  const int first = static_cast<int>(envOr("CTD_QC_SEED0", 2000));
  const int count = static_cast<int>(envOr("CTD_QC_COUNT", 0));
  for (int seed = first; seed < first + count; ++seed) {
    auto spec = qctest::faceInViewPose(static_cast<unsigned>(seed));
    if (std::getenv("CTD_QC_NEUTRAL")) spec.yaw_deg = spec.pitch_deg = spec.roll_deg = 0, spec.prone = false;
    const auto pc = phantom::makePhantom(spec);
    std::cout << "POSE," << spec.describe() << "\n";
    probe(pc.ct, "seed" + std::to_string(seed), out, renderer, detector);
  }
}
