#pragma once
// nnU-Net's DefaultPreprocessor.run_case_npy for inference: transpose_forward, crop to the
// non-zero region, per-channel normalization as planned, resampling to the target spacing.
#include "nn/NnunetPlans.h"
#include "segment/nnunet/ImageGrid.h"
#include "segment/nnunet/PredictionExport.h"

namespace ctd::nnunet {

struct PreprocessedCase {
  ImageGrid data;        // float32, on the configuration's grid
  CaseProperties props;  // what export needs to go back
};

// image: channels x spatial axes in the reader's order (SimpleITK: [z][y][x]);
// spacing: in the same axis order. Throws ctd::Error when the channel count does not match the plans.
PreprocessedCase preprocessCase(const ImageGrid& image, const Spacing3& spacing, const nn::NnunetPlans& plans);

// The configuration's spacing as 3 entries (2D configurations keep the slice spacing).
Spacing3 targetSpacing(const nn::NnunetPlans& plans, const Spacing3& spacing_transposed);

}  // namespace ctd::nnunet
