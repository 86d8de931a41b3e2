#include "qc/SeriesQc.h"

#include <chrono>
#include <tuple>
#include <opencv2/imgproc.hpp>

#include "core/Error.h"
#include "qc/PngFile.h"

namespace fs = std::filesystem;

namespace ctd::qc {

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// 8-bit window (level 100, width 1400): skin, fat, muscle and bone all visible.
std::uint8_t windowed(float hu) {
  const double v = (hu - (100.0 - 700.0)) / 1400.0 * 255.0;
  return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

cv::Mat withContour(const cv::Mat& gray, const cv::Mat& mask) {
  cv::Mat bgr;
  cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_LIST, cv::CHAIN_APPROX_NONE);
  cv::drawContours(bgr, contours, -1, cv::Scalar(0, 0, 255), 1);
  return bgr;
}

}  // namespace

std::string safeName(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

cv::Mat maskSlices(const SkinGrid& g) {
  if (g.empty()) return cv::Mat(64, 128, CV_8UC3, cv::Scalar(0, 0, 0));
  // Sagittal: the middle column of the grid (x), image columns = anterior (low y)
  // on the left, rows = superior at the top.
  const std::size_t ic = g.nx / 2;
  cv::Mat sag(static_cast<int>(g.nz), static_cast<int>(g.ny), CV_8UC1), sag_m(sag.size(), CV_8UC1);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j) {
      const std::size_t x = g.index(ic, j, k);
      const int r = static_cast<int>(g.nz - 1 - k), c = static_cast<int>(j);
      sag.at<std::uint8_t>(r, c) = windowed(g.hu[x]);
      sag_m.at<std::uint8_t>(r, c) = g.mask[x] >= 0.5f ? 255 : 0;
    }
  // Axial: the level with the most mask (else the middle), viewed from the feet
  // (radiological: patient's right on the image left, anterior at the top).
  std::size_t kc = g.nz / 2, best = 0;
  for (std::size_t k = 0; k < g.nz; ++k) {
    std::size_t n = 0;
    for (std::size_t x = k * g.nx * g.ny; x < (k + 1) * g.nx * g.ny; ++x) n += g.mask[x] >= 0.5f;
    if (n > best) best = n, kc = k;
  }
  cv::Mat ax(static_cast<int>(g.ny), static_cast<int>(g.nx), CV_8UC1), ax_m(ax.size(), CV_8UC1);
  for (std::size_t j = 0; j < g.ny; ++j)
    for (std::size_t i = 0; i < g.nx; ++i) {
      const std::size_t x = g.index(i, j, kc);
      ax.at<std::uint8_t>(static_cast<int>(j), static_cast<int>(i)) = windowed(g.hu[x]);
      ax_m.at<std::uint8_t>(static_cast<int>(j), static_cast<int>(i)) = g.mask[x] >= 0.5f ? 255 : 0;
    }
  const cv::Mat a = withContour(sag, sag_m), b = withContour(ax, ax_m);
  cv::Mat out(std::max(a.rows, b.rows), a.cols + b.cols + 4, CV_8UC3, cv::Scalar(0, 0, 0));
  a.copyTo(out(cv::Rect(0, 0, a.cols, a.rows)));
  b.copyTo(out(cv::Rect(a.cols + 4, 0, b.cols, b.rows)));
  cv::Mat scaled;  // the grid is 1.5 mm: show it at 1 mm per pixel
  cv::resize(out, scaled, cv::Size(), g.spacing, g.spacing, cv::INTER_NEAREST);
  return scaled;
}

namespace {
// The detector sizes its search in mm: it must know the renders' pixel size.
DetectorOptions matching(DetectorOptions det, const RenderOptions& ren) {
  det.pixel_mm = ren.pixel_mm;
  return det;
}
}  // namespace

SeriesQc::SeriesQc(fs::path qc_root, DetectorOptions det, RenderOptions ren)
    : root_(std::move(qc_root)), detector_(matching(det, ren)), renderer_(ren) {}

SeriesQcResult SeriesQc::run(const Volume& v, const VoxelMask& mask, double fill_hu, const std::string& case_name,
                             const std::string& series_name) const {
  SeriesQcResult r;
  auto t0 = std::chrono::steady_clock::now();
  const SkinGrid g = makeSkinGrid(v, &mask);
  const BodyRegion body = renderer_.body(g, g.hu);
  const auto [before, after] = renderer_.renderBeforeAfter(g, fill_hu, body, allViews());
  r.render_seconds = since(t0);
  t0 = std::chrono::steady_clock::now();
  std::tie(r.before, r.after) = detector_.detectBeforeAfter(before, after);
  r.detect_seconds = since(t0);

  const std::string dir = safeName(case_name.empty() ? "case" : case_name);
  const std::string stem = safeName(series_name);
  r.before_png = dir + "/" + stem + "_before.png";
  r.after_png = dir + "/" + stem + "_after.png";
  r.slices_png = dir + "/" + stem + "_slices.png";
  try {
    writePng(root_ / r.before_png, sideBySide(before));
    writePng(root_ / r.after_png, sideBySide(after));
    writePng(root_ / r.slices_png, maskSlices(g));
  } catch (const std::exception& e) {
    // The detector has answered; pictures that cannot be written (disk full,
    // file size limit) must not decide the fate of the series' DICOM output.
    r.write_error = e.what();
    std::error_code ec;
    for (auto* p : {&r.before_png, &r.after_png, &r.slices_png}) {
      fs::remove(root_ / *p, ec);
      fs::remove(root_ / (*p + ".tmp"), ec);
      p->clear();
    }
  }
  return r;
}

}  // namespace ctd::qc
