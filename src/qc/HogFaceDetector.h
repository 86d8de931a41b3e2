#pragma once
// dlib's HOG frontal face detector (Debian libdlib-dev: the trained model is
// compiled into the library, nothing is downloaded): a linear SVM over HOG
// features in 80 x 80 windows, five sub-models (front, turned left/right,
// tilted left/right). Far more specific than the Viola-Jones cascades on
// what defacing leaves (bare orbits, nasal aperture, teeth), which have the
// dark-blob layout a Haar cascade keys on but not a face's edge structure.
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <vector>

namespace ctd::qc {

struct HogBox {
  double score = 0;  // SVM margin: > 0 is dlib's own "face" threshold
  cv::Rect box;
  int sub_model = 0;  // which of the five HOG filters fired
};

class HogFaceDetector {
 public:
  HogFaceDetector();
  ~HogFaceDetector();
  HogFaceDetector(const HogFaceDetector&) = delete;
  HogFaceDetector& operator=(const HogFaceDetector&) = delete;

  // Every window scoring at least `floor` on an 8-bit grey image.
  std::vector<HogBox> detect(const cv::Mat& gray, double floor) const;

 private:
  struct Model;
  std::unique_ptr<Model> model_;
  mutable std::mutex mutex_;  // dlib's scanner keeps per-call state in the detector
};

}  // namespace ctd::qc
