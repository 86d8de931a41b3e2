#pragma once
// Runs the face detectors OpenCV ships (Debian opencv-data: Viola-Jones Haar
// and LBP cascades) on skin renders: frontal cascades on the front and oblique
// views, the profile cascade (and its mirror) on the obliques and sides. The
// score of a hit is the number of raw detection windows merged into it
// (detectMultiScale's numDetections); a face counts when it reaches the
// cascade's minimum score.
#include <mutex>
#include <opencv2/objdetect.hpp>
#include <string>
#include <vector>

#include "qc/SkinRenderer.h"

namespace ctd::qc {

struct FaceHit {
  bool detected = false;
  double score = 0;   // of the best box (a detection first, else the highest score below the minimum)
  std::string view;   // view of the best score ("" when nothing at all was found)
  std::string cascade;
  cv::Rect box;       // in that view's image
};

struct DetectorOptions {
  std::string data_dir = CTD_OPENCV_DATA;  // holds haarcascades/ and lbpcascades/
  // A face counts at this many merged windows or more (see FaceDetector.cpp
  // for how these were chosen).
  double min_frontal_score = 12;
  double min_profile_score = 13;
  int min_neighbors = 3;
  double min_face_mm = 60;   // smallest face box searched (renders are in mm per pixel)
  double max_face_mm = 170;  // largest: a box over the whole head is not a face
  double pixel_mm = 1.5;  // of the renders (RenderOptions::pixel_mm)
  std::vector<double> roll_deg{0};  // in-plane turns of each render tried (degrees)
};

class FaceDetector {
 public:
  // Loads the cascades; throws ctd::Error naming a missing file.
  explicit FaceDetector(DetectorOptions opt = {});

  FaceHit detect(const std::vector<SkinImage>& views) const;
  FaceHit detectIn(const cv::Mat& image, View view) const;
  // Every box of every cascade that applies to the view (for choosing settings).
  std::vector<FaceHit> detectAll(const cv::Mat& image, View view) const;

 private:
  struct Cascade {
    std::string name;
    bool frontal = true;
    double min_score = 0;
    mutable cv::CascadeClassifier classifier;
  };
  DetectorOptions opt_;
  std::vector<Cascade> cascades_;
  mutable std::mutex mutex_;  // cv::CascadeClassifier is not safe to share between threads
  void run(const Cascade& c, const cv::Mat& gray, View view, bool mirrored, std::vector<FaceHit>& hits) const;
};

}  // namespace ctd::qc
