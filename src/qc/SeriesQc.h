#pragma once
// Quality control of one series: renders the skin before and after defacing,
// runs the face detector on both, and writes the pictures the gallery shows
// (OUT/qc/<case>/<series>_{before,after,slices}.png).
#include <filesystem>
#include <string>

#include "qc/FaceDetector.h"
#include "qc/SkinRenderer.h"
#include "volume/Volume.h"

namespace ctd::qc {

struct SeriesQcResult {
  FaceHit before, after;
  double render_seconds = 0;  // grid + renders (before and after)
  double detect_seconds = 0;  // the detector on every view, before and after
  // Relative to the qc folder; empty when not written.
  std::string before_png, after_png, slices_png;
  std::string write_error;  // why the pictures are missing (they then are all empty)
};

class SeriesQc {
 public:
  // `qc_root` = OUT/qc. Loads the detector (throws ctd::Error when opencv-data is missing).
  explicit SeriesQc(std::filesystem::path qc_root, DetectorOptions det = {}, RenderOptions ren = {});

  // `mask` and `fill_hu` give the defaced series (the values that will be written).
  SeriesQcResult run(const Volume& v, const VoxelMask& mask, double fill_hu, const std::string& case_name,
                     const std::string& series_name) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  FaceDetector detector_;
  SkinRenderer renderer_;
};

// Mid-sagittal and one axial slice (the level with the most face mask) of the
// grid, side by side, soft-tissue/bone window, the mask outlined in red.
cv::Mat maskSlices(const SkinGrid& g);

// A file-name-safe form of a case or series name.
std::string safeName(const std::string& s);

}  // namespace ctd::qc
