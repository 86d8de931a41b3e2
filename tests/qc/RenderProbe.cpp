// Debug probe (skipped unless CTD_QC_PROBE names an output folder): renders
// phantoms before and after the geometric segmenter, writes the PNGs and prints
// every detector answer. For looking at renders, not an acceptance test.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include "qc/PngFile.h"
#include <opencv2/imgproc.hpp>

#include "QcTestSupport.h"
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
  qc::RenderOptions ropt;
  if (std::getenv("CTD_QC_ELEV")) ropt.light_elevation_deg = std::atof(std::getenv("CTD_QC_ELEV"));
  if (std::getenv("CTD_QC_SHADOW")) ropt.shadow_mm = std::atof(std::getenv("CTD_QC_SHADOW"));
  if (std::getenv("CTD_QC_PX")) ropt.pixel_mm = std::atof(std::getenv("CTD_QC_PX"));
  qc::SkinRenderer renderer(ropt);
  qc::DetectorOptions dopt;
  dopt.pixel_mm = ropt.pixel_mm;
  if (std::getenv("CTD_QC_ROLL")) dopt.roll_deg = {-20, 0, 20};
  qc::FaceDetector detector(dopt);
  for (int seed = first; seed < first + count; ++seed) {
    const auto spec = qctest::faceInViewPose(static_cast<unsigned>(seed));
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
    if (const char* files = std::getenv("CTD_QC_CASCADES")) {
      // Every cascade named (comma-separated, under opencv-data) on every view:
      // the best merged-window count per view, for choosing settings.
      std::string list = files;
      for (std::size_t a = 0; a < list.size();) {
        const std::size_t b = std::min(list.find(',', a), list.size());
        const std::string name = list.substr(a, b - a);
        a = b + 1;
        cv::CascadeClassifier cc((fs::path(CTD_OPENCV_DATA) / name).string());
        for (int phase = 0; phase < 2; ++phase)
          for (const auto& v : phase ? after : before) {
            cv::Mat eq0;
            cv::equalizeHist(v.image, eq0);
            for (int mirror = 0; mirror < 6; ++mirror) {
              cv::Mat eq = eq0;
              const double roll = (mirror / 2 - 1) * 20.0;
              if (roll != 0)
                cv::warpAffine(eq0, eq, cv::getRotationMatrix2D(cv::Point2f(eq0.cols / 2.0f, eq0.rows / 2.0f), roll, 1.0),
                               eq0.size());
              if (mirror % 2) cv::flip(eq, eq, 1);
              std::vector<cv::Rect> boxes;
              std::vector<int> nb;
              const int mn = static_cast<int>(60 / ropt.pixel_mm), mx = static_cast<int>(170 / ropt.pixel_mm);
              cc.detectMultiScale(eq, boxes, nb, 1.05, 3, 0, cv::Size(mn, mn), cv::Size(mx, mx));
              int best = 0;
              for (int n : nb) best = std::max(best, n);
              if (std::getenv("CTD_QC_EYES") && name.find("frontalface") != std::string::npos) {
                // Eye cascade inside each frontal box's upper part: closed lids vs bare orbits.
                static cv::CascadeClassifier eye_cc(
                    (fs::path(CTD_OPENCV_DATA) / "haarcascades/haarcascade_eye.xml").string());
                for (std::size_t bi = 0; bi < boxes.size(); ++bi) {
                  const cv::Rect box = boxes[bi];
                  const cv::Rect upper(box.x, box.y, box.width, box.height * 3 / 5);
                  std::vector<cv::Rect> eyes;
                  std::vector<int> en;
                  eye_cc.detectMultiScale(eq(upper), eyes, en, 1.05, 2, 0, cv::Size(box.width / 8, box.width / 8),
                                          cv::Size(box.width / 3, box.width / 3));
                  std::cout << "EYE," << seed << "," << (phase ? "after" : "before") << "," << qc::toString(v.view)
                            << "," << name << "," << nb[bi] << "," << eyes.size() << "\n";
                }
              }
              std::cout << "CASC," << seed << "," << (phase ? "after" : "before") << "," << qc::toString(v.view) << ","
                        << name << "," << mirror % 2 << "," << best << "\n";
            }
          }
      }
    }
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
    qc::writePng((fs::path(out) / ("seed" + std::to_string(seed) + "_before.png")), qc::sideBySide(before));
    auto afterCopy = after;
    for (auto& v : afterCopy) {
      const auto h = detector.detectIn(v.image, v.view);
      std::cout << "    after " << qc::toString(v.view) << ": " << h.score << " " << h.cascade << " " << h.box.width << "\n";
      if (!h.view.empty()) cv::rectangle(v.image, h.box, cv::Scalar(255), 2);
    }
    qc::writePng((fs::path(out) / ("seed" + std::to_string(seed) + "_after.png")), qc::sideBySide(afterCopy));
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
    const double d0 = cpu();
    qc::FaceDetector det;
    std::cout << "CPU s: FaceDetector construction " << cpu() - d0 << "\n";
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
    const auto w0 = std::chrono::steady_clock::now();
    const auto pair = ren.renderBeforeAfter(g, -1000, body, qc::allViews());
    const double pair_wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    double c6 = cpu();
    std::cout << "CPU s: grid " << c1 - c0 << " (" << g.nx << "x" << g.ny << "x" << g.nz << "), body " << c2 - c1
              << ", render before " << c3 - c2 << ", after " << c4 - c3 << ", detect both " << c5 - c4
              << "; renderBeforeAfter " << c6 - c5 << " (wall " << pair_wall << ")\n";
  }
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = qc.run(pc.ct, seg.mask, -1000, "timing", "phantom512");
    std::cout << "render " << r.render_seconds << " s, detect " << r.detect_seconds << " s, total with PNGs "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s; before "
              << r.before.score << " after " << r.after.score << "\n";
  }
}

// Render dump (skipped unless CTD_QC_DUMP names a file): the raw bytes of the
// before and after renders (SkinRenderer::render) of two phantoms, for checking
// that a change to the renderer leaves its images bit-identical (cmp the dumps
// of two builds). The mask is the phantom's own nose, lips, chin and globes, so
// the dump does not move when the segmenter changes.
TEST(QcProbe, RenderDump) {
  const char* file = std::getenv("CTD_QC_DUMP");
  if (!file) GTEST_SKIP() << "set CTD_QC_DUMP=<file>";
  std::FILE* f = std::fopen(file, "wb");
  ASSERT_TRUE(f);
  qc::SkinRenderer ren;
  for (int seed : {1, 7}) {
    const auto pc = phantom::makePhantom(qctest::faceInViewPose(static_cast<unsigned>(seed)));
    VoxelMask mask = VoxelMask::like(pc.ct);
    for (std::size_t x = 0; x < mask.data.size(); ++x) {
      const auto l = pc.labels.data[x];
      mask.data[x] = l == phantom::Nose || l == phantom::Lips || l == phantom::Chin || l == phantom::Globe;
    }
    const auto g = qc::makeSkinGrid(pc.ct, &mask);
    const auto body = ren.body(g, g.hu);
    for (const auto& views : {ren.render(g, g.hu, body, qc::allViews()),
                              ren.render(g, g.defacedValues(-1000), body, qc::allViews())})
      for (const auto& v : views) {
        ASSERT_TRUE(v.image.isContinuous());
        std::fwrite(v.image.data, 1, v.image.total(), f);
      }
  }
  std::fclose(f);
}
