#include "qc/FaceDetector.h"

#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "core/Error.h"

namespace ctd::qc {

FaceDetector::FaceDetector(DetectorOptions opt) : opt_(std::move(opt)) {
  const std::filesystem::path dir = opt_.data_dir;
  // Settings chosen on phantom renders of seeds 2000-2015 (full head in view;
  // disjoint from the acceptance seeds in tests/qc), before and after the
  // geometric segmenter: frontalface_default and lbpcascade_frontalface_improved
  // fired as often on what defacing leaves (facial skeleton, teeth) as on the
  // faces, so they are not used. After defacing, alt2 merged at most 11 windows
  // and the profile cascade 12; the minimum scores (DetectorOptions) sit just
  // above. Never tuned on real data.
  const struct {
    const char* file;
    bool frontal;
    double min_score;
  } files[] = {
      {"haarcascades/haarcascade_frontalface_alt2.xml", true, opt_.min_frontal_score},
      {"haarcascades/haarcascade_profileface.xml", false, opt_.min_profile_score},
  };
  for (const auto& f : files) {
    Cascade c;
    c.name = std::filesystem::path(f.file).stem().string();
    c.frontal = f.frontal;
    c.min_score = f.min_score;
    if (!c.classifier.load((dir / f.file).string()))
      throw Error(dir / f.file, "cannot load the OpenCV face cascade (Debian package opencv-data)");
    cascades_.push_back(std::move(c));
  }
}

void FaceDetector::run(const Cascade& c, const cv::Mat& gray, View view, bool mirrored,
                       std::vector<FaceHit>& hits) const {
  std::vector<cv::Rect> boxes;
  std::vector<int> neighbours;
  const int min_px = std::max(24, static_cast<int>(opt_.min_face_mm / opt_.pixel_mm));
  const int max_px = static_cast<int>(opt_.max_face_mm / opt_.pixel_mm);
  c.classifier.detectMultiScale(gray, boxes, neighbours, 1.05, opt_.min_neighbors, 0, cv::Size(min_px, min_px),
                                cv::Size(max_px, max_px));
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    FaceHit h;
    // The number of overlapping raw windows merged into a box: a real face is
    // found at many neighbouring positions and scales, a chance pattern at few.
    h.score = b < neighbours.size() ? neighbours[b] : 0.0;
    h.view = toString(view);
    h.detected = h.score >= c.min_score;
    h.cascade = c.name + (mirrored ? " (mirrored)" : "");
    h.box = boxes[b];
    if (mirrored) h.box.x = gray.cols - boxes[b].x - boxes[b].width;
    hits.push_back(h);
  }
}

std::vector<FaceHit> FaceDetector::detectAll(const cv::Mat& image, View view) const {
  std::vector<FaceHit> hits;
  cv::Mat equalized;
  cv::equalizeHist(image, equalized);
  const bool side = view == View::Left || view == View::Right;
  std::lock_guard<std::mutex> lock(mutex_);
  for (double roll : opt_.roll_deg) {
    // The cascades only find upright faces; a head rolled on the couch is
    // looked at turned back by each of these angles too.
    cv::Mat gray = equalized;
    if (roll != 0) {
      const cv::Mat rot = cv::getRotationMatrix2D(cv::Point2f(image.cols / 2.0f, image.rows / 2.0f), roll, 1.0);
      cv::warpAffine(equalized, gray, rot, equalized.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
    }
    cv::Mat flipped;
    cv::flip(gray, flipped, 1);
    for (const auto& c : cascades_) {
      if (c.frontal && side) continue;
      if (!c.frontal && view == View::Front) continue;
      run(c, gray, view, false, hits);
      // The profile cascade finds faces turned one way; the mirror covers the other.
      if (!c.frontal) run(c, flipped, view, true, hits);
    }
  }
  return hits;
}

namespace {
// A detection beats a non-detection; then the higher score wins.
bool better(const FaceHit& a, const FaceHit& b) {
  if (b.view.empty()) return !a.view.empty();
  if (a.detected != b.detected) return a.detected;
  return a.score > b.score;
}
}  // namespace

FaceHit FaceDetector::detectIn(const cv::Mat& image, View view) const {
  FaceHit best;
  for (const auto& h : detectAll(image, view))
    if (better(h, best)) best = h;
  return best;
}

FaceHit FaceDetector::detect(const std::vector<SkinImage>& views) const {
  FaceHit best;
  for (const auto& v : views) {
    FaceHit h = detectIn(v.image, v.view);
    if (better(h, best)) best = h;
  }
  return best;
}

}  // namespace ctd::qc
