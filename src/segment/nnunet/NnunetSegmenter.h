#pragma once
// The face segmenter backed by an nnU-Net v2 model (e.g. CTA-DEFACE): the series is given to
// nnU-Net the way the original pipeline did (the NIfTI SimpleITK read: array [k][j][i], spacing
// (slice gap, row spacing, column spacing)); tilted or unevenly spaced stacks go through their
// regular grid and the mask comes back onto every native slice through that grid.
#include <filesystem>
#include <memory>
#include <string>

#include "segment/FaceSegmenter.h"
#include "segment/nnunet/FaceRegion.h"
#include "segment/nnunet/NnunetPredictor.h"

namespace ctd::nnunet {

class NnunetSegmenter : public FaceSegmenter {
 public:
  // `display_name`: how reports name the model (the --model value). Loads the model now.
  // `region`: with `enabled`, only the tiles overlapping the face region are predicted (--roi face).
  NnunetSegmenter(const std::filesystem::path& model_folder, const PredictorOptions& options,
                  std::string display_name, FaceRegionOptions region = {});
  std::string name() const override { return name_; }
  FaceSegmentation segment(const Volume& v) override;

  int faceLabel() const { return face_label_; }
  const std::string& faceLabelNote() const { return face_note_; }
  NnunetPredictor& predictor() { return *predictor_; }

 private:
  std::unique_ptr<NnunetPredictor> predictor_;
  std::string name_;
  int face_label_ = 1;
  std::string face_note_;
  FaceRegionOptions region_;
};

// The label value that means "face" in a model's dataset.json: the label named "face"
// (case-insensitive), else the first label whose name contains "face", else 1. `note` says which.
int findFaceLabel(const nn::NnunetPlans& plans, std::string& note);

}  // namespace ctd::nnunet
