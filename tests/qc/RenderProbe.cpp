// Debug probe (skipped unless CTD_QC_PROBE names an output folder): renders
// phantoms before and after the geometric segmenter, writes the PNGs and prints
// every detector answer. For looking at renders, not an acceptance test.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "phantom/PhantomGenerator.h"
#include "qc/FaceDetector.h"
#include "qc/SeriesQc.h"
#include "qc/SkinRenderer.h"
#include "segment/GeometricSegmenter.h"

namespace fs = std::filesystem;
using namespace ctd;

TEST(QcProbe, PhantomRenders) {
  const char* out = std::getenv("CTD_QC_PROBE");
  if (!out) GTEST_SKIP() << "set CTD_QC_PROBE=<folder> to write renders";
  const int first = std::getenv("CTD_QC_SEED0") ? std::atoi(std::getenv("CTD_QC_SEED0")) : 1000;
  const int count = std::getenv("CTD_QC_COUNT") ? std::atoi(std::getenv("CTD_QC_COUNT")) : 4;
  fs::create_directories(out);
  qc::SkinRenderer renderer;
  qc::DetectorOptions dopt;
  if (std::getenv("CTD_QC_ROLL")) dopt.roll_deg = {-20, 0, 20};
  qc::FaceDetector detector(dopt);
  for (int seed = first; seed < first + count; ++seed) {
    auto spec = phantom::PhantomSpec::random(static_cast<unsigned>(seed));
    spec.fov = phantom::PhantomFov::FullHead;
    const auto pc = phantom::makePhantom(spec);
    GeometricSegmenter seg;
    const auto s = seg.segment(pc.ct);
    const auto t0 = std::chrono::steady_clock::now();
    const qc::SkinGrid g = qc::makeSkinGrid(pc.ct, &s.mask);
    const auto t1 = std::chrono::steady_clock::now();
    const auto body = renderer.body(g, g.hu);
    const auto before = renderer.render(g, g.hu, body, qc::allViews());
    const auto after = renderer.render(g, g.defacedValues(-1000), body, qc::allViews());
    const auto t2 = std::chrono::steady_clock::now();
    const auto hb = detector.detect(before);
    const auto ha = detector.detect(after);
    const auto t3 = std::chrono::steady_clock::now();
    std::cout << spec.describe() << "\n  grid " << std::chrono::duration<double>(t1 - t0).count() << " s, render "
              << std::chrono::duration<double>(t2 - t1).count() << " s, detect "
              << std::chrono::duration<double>(t3 - t2).count() << " s\n  before: " << hb.detected << " " << hb.score
              << " " << hb.view << " " << hb.cascade << "\n  after: " << ha.detected << " " << ha.score << " "
              << ha.view << " " << ha.cascade << "\n";
    if (std::getenv("CTD_QC_ALL")) {
      for (int phase = 0; phase < 2; ++phase)
        for (const auto& v : phase ? after : before)
          for (const auto& h : detector.detectAll(v.image, v.view))
            std::cout << "ALL," << seed << "," << (phase ? "after" : "before") << "," << qc::toString(v.view) << ","
                      << h.cascade << "," << h.score << "," << h.box.width << "\n";
      continue;
    }
    for (const auto& v : before) {
      const auto h = detector.detectIn(v.image, v.view);
      std::cout << "    before " << qc::toString(v.view) << ": " << h.score << " " << h.cascade << " " << h.box.width << "\n";
    }
    cv::imwrite((fs::path(out) / ("seed" + std::to_string(seed) + "_before.png")).string(), qc::sideBySide(before));
    auto afterCopy = after;
    for (auto& v : afterCopy) {
      const auto h = detector.detectIn(v.image, v.view);
      std::cout << "    after " << qc::toString(v.view) << ": " << h.score << " " << h.cascade << " " << h.box.width << "\n";
      if (!h.view.empty()) cv::rectangle(v.image, h.box, cv::Scalar(255), 2);
    }
    cv::imwrite((fs::path(out) / ("seed" + std::to_string(seed) + "_after.png")).string(), qc::sideBySide(afterCopy));
  }
}

// Timing probe (skipped unless CTD_QC_TIMING is set): QC of a 512 x 512 x ~300
// phantom series, the size the e2e benchmark uses.
TEST(QcProbe, Timing512) {
  if (!std::getenv("CTD_QC_TIMING")) GTEST_SKIP() << "set CTD_QC_TIMING=1";
  phantom::PhantomSpec spec;
  spec.matrix = 512;
  spec.pixel_spacing_mm = 0.5;
  spec.slice_step_mm = 0.8;
  const auto pc = phantom::makePhantom(spec);
  std::cout << pc.ct.nx << " x " << pc.ct.ny << " x " << pc.ct.nz << "\n";
  const auto seg = GeometricSegmenter().segment(pc.ct);
  const qc::SeriesQc qc(std::filesystem::path(CTD_BINARY_DIR) / "qc-timing");
  auto cpu = [] { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; };
  {
    qc::SkinRenderer ren;
    qc::FaceDetector det;
    double c0 = cpu();
    const auto g = qc::makeSkinGrid(pc.ct, &seg.mask);
    double c1 = cpu();
    const auto body = ren.body(g, g.hu);
    double c2 = cpu();
    const auto before = ren.render(g, g.hu, body, qc::allViews());
    double c3 = cpu();
    const auto after = ren.render(g, g.defacedValues(-1000), body, qc::allViews());
    double c4 = cpu();
    (void)det.detect(before);
    (void)det.detect(after);
    double c5 = cpu();
    std::cout << "CPU s: grid " << c1 - c0 << " (" << g.nx << "x" << g.ny << "x" << g.nz << "), body " << c2 - c1
              << ", render before " << c3 - c2 << ", after " << c4 - c3 << ", detect both " << c5 - c4 << "\n";
  }
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = qc.run(pc.ct, seg.mask, -1000, "timing", "phantom512");
    std::cout << "render " << r.render_seconds << " s, detect " << r.detect_seconds << " s, total with PNGs "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s; before "
              << r.before.score << " after " << r.after.score << "\n";
  }
}
