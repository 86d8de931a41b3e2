#pragma once
// Looks for a face on skin renders with two kinds of detector, each turned by
// a few degrees too (a head rolled on the couch): dlib's HOG frontal face
// detector (HogFaceDetector; score = SVM margin) on the front and oblique
// views, and OpenCV's Viola-Jones cascades (Debian opencv-data; score = the
// number of raw windows merged into a box): frontalface_alt2 on the front and
// obliques, profileface (and its mirror) on the obliques and sides. A face
// counts when any of them reaches its own minimum score. HOG finds the real
// Slicer face that the cascades miss; the cascades find faces HOG misses once
// their outline is gone (a defacer that cut around eyes and nose).
#include <deque>
#include <memory>
#include <mutex>
#include <opencv2/objdetect.hpp>
#include <string>
#include <vector>

#include "qc/HogFaceDetector.h"
#include "qc/SkinRenderer.h"

namespace ctd::qc {

struct FaceHit {
  bool detected = false;
  double score = 0;   // of the best box (a detection first, else the highest score below the minimum)
  std::string view;   // view of the best score ("" when nothing at all was found)
  std::string cascade;  // which detector ("dlib-hog", or the OpenCV cascade's name)
  double threshold = 0;  // the score at which this detector counts a face
  cv::Rect box;       // in that view's image
};

struct DetectorOptions {
  // dlib HOG: a face counts at this SVM margin or more (see FaceDetector.cpp
  // for how it was chosen). Views are scaled to `hog_pixel_mm` per pixel first
  // so that a face spans well over dlib's 80-pixel window.
  bool hog = true;
  double min_hog_score = 0.5;
  double hog_pixel_mm = 0.75;
  bool haar = true;  // also the OpenCV cascades below
  std::string data_dir = CTD_OPENCV_DATA;  // holds haarcascades/ and lbpcascades/
  // A face counts at this many merged windows or more (see FaceDetector.cpp
  // for how these were chosen).
  double min_frontal_score = 20;
  double min_profile_score = 15;
  int min_neighbors = 3;
  double min_face_mm = 60;   // smallest face box searched (renders are in mm per pixel)
  double max_face_mm = 170;  // largest: a box over the whole head is not a face
  double pixel_mm = 1.0;  // of the renders (RenderOptions::pixel_mm; SeriesQc sets it)
  std::vector<double> roll_deg{-20, 0, 20};  // in-plane turns of each render tried (degrees)
};

class FaceDetector {
 public:
  // Loads the cascades (or takes a set a destroyed detector left loaded: a
  // batch builds one detector per case, and loading costs ~0.3 s CPU);
  // throws ctd::Error naming a missing file.
  explicit FaceDetector(DetectorOptions opt = {});
  ~FaceDetector();
  FaceDetector(const FaceDetector&) = delete;
  FaceDetector& operator=(const FaceDetector&) = delete;

  FaceHit detect(const std::vector<SkinImage>& views) const;
  // detect(before) and detect(after); a view whose after image is the same as
  // its before image (defacing changed nothing it shows) is looked at once.
  std::pair<FaceHit, FaceHit> detectBeforeAfter(const std::vector<SkinImage>& before,
                                                const std::vector<SkinImage>& after) const;
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
  // The loaded models: used by one detector at a time, kept in a process-wide
  // pool between detectors (ModelPool in FaceDetector.cpp).
  struct Models {
    std::string data_dir;
    std::deque<Cascade> cascades;  // all loaded so far (a deque: cascades_ points into it)
    HogFaceDetector hog;
  };
  static std::unique_ptr<Models> takeModels(const std::string& data_dir);
  DetectorOptions opt_;
  std::unique_ptr<Models> models_;
  std::vector<Cascade*> cascades_;  // the ones these options use, their min_score set
  HogFaceDetector& hog_;
  mutable std::mutex mutex_;  // cv::CascadeClassifier is not safe to share between threads
  void runHog(const cv::Mat& gray, View view, double roll, std::vector<FaceHit>& hits) const;
  void run(const Cascade& c, const cv::Mat& gray, View view, bool mirrored, std::vector<FaceHit>& hits) const;
};

}  // namespace ctd::qc
