#include "qc/HogFaceDetector.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>

namespace ctd::qc {

struct HogFaceDetector::Model {
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();
};

HogFaceDetector::HogFaceDetector() : model_(std::make_unique<Model>()) {}
HogFaceDetector::~HogFaceDetector() = default;

std::vector<HogBox> HogFaceDetector::detect(const cv::Mat& gray, double floor) const {
  CV_Assert(gray.type() == CV_8UC1);
  const cv::Mat contiguous = gray.isContinuous() ? gray : gray.clone();
  const dlib::cv_image<unsigned char> image(contiguous);
  std::vector<dlib::rect_detection> found;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // dlib reports windows above its own threshold plus this adjustment.
    model_->detector(image, found, floor);
  }
  std::vector<HogBox> out;
  for (const auto& d : found) {
    HogBox b;
    b.score = d.detection_confidence;
    b.box = cv::Rect(static_cast<int>(d.rect.left()), static_cast<int>(d.rect.top()),
                     static_cast<int>(d.rect.width()), static_cast<int>(d.rect.height()));
    b.sub_model = static_cast<int>(d.weight_index);
    out.push_back(b);
  }
  return out;
}

}  // namespace ctd::qc
