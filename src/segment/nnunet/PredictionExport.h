#pragma once
// nnU-Net's convert_predicted_logits_to_segmentation_with_correct_shape: logits on the
// preprocessed grid -> resampled back to the cropped original shape (the plans' probabilities
// resampling) -> softmax (or sigmoid for region-based models) -> segmentation (argmax, or the
// regions in regions_class_order above 0.5) -> put into the crop box -> transpose_backward.
#include <array>
#include <cstdint>
#include <vector>

#include "segment/nnunet/ImageGrid.h"
#include "segment/nnunet/NnunetResampling.h"

namespace ctd::nnunet {

// What preprocessing recorded about one case (nnU-Net's properties dict).
struct CaseProperties {
  Spacing3 spacing{1, 1, 1};           // original spacing, original axis order
  Shape3 shape_before_cropping{};      // after transpose_forward
  Box3 bbox;                           // crop box, after transpose_forward
  Shape3 shape_after_cropping{};       // == bbox.size()
  std::array<int, 3> transpose_forward{0, 1, 2};
  std::array<int, 3> transpose_backward{0, 1, 2};
};

struct LabelScheme {
  bool has_regions = false;
  std::vector<int> regions_class_order;  // with regions: label value written for each output channel
};

struct ExportedPrediction {
  Shape3 shape{};                     // original array shape (before transpose_forward)
  std::vector<std::uint8_t> labels;   // label value per voxel
  ImageGrid probabilities;            // K channels on `shape`; empty unless asked for
};

// `logits`: K channels on the preprocessed grid; `config_spacing`: the configuration's target
// spacing as 3 entries (a 2D configuration's first entry is the original slice spacing).
// `half_logits`: the resampled logits are stored as float16, as nnU-Net's resampling keeps the
// dtype of its (float16) logits.
ExportedPrediction exportPrediction(const ImageGrid& logits, const CaseProperties& props,
                                    const Spacing3& config_spacing, const ResamplingParams& probabilities_resampling,
                                    const LabelScheme& labels, bool with_probabilities, bool half_logits = true);

}  // namespace ctd::nnunet
