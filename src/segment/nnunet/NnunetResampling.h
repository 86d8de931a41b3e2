#pragma once
// nnU-Net's default_resampling.py for images and probabilities (not label maps):
// compute_new_shape, the separate-z decision (ANISO_THRESHOLD 3) and resample_data_or_seg:
// either one 3D resize of `order`, or, for anisotropic spacing, a 2D resize of `order` in every
// slice across the low-resolution axis followed by `order_z` (nearest) along it.
#include <optional>

#include "nn/NnunetPlans.h"
#include "segment/nnunet/ImageGrid.h"

namespace ctd::nnunet {

Shape3 computeNewShape(const Shape3& old_shape, const Spacing3& old_spacing, const Spacing3& new_spacing);

struct ResamplingParams {
  int order = 3;
  int order_z = 0;
  std::optional<bool> force_separate_z;  // nullopt: decided from the spacings
  double anisotropy_threshold = 3.0;
};

// From a plans ResamplingSpec ("resample_data_or_seg_to_shape" / "_to_spacing" with kwargs).
// Throws ctd::Error for another function or is_seg true.
ResamplingParams resamplingParams(const nn::ResamplingSpec& spec);

// Low-resolution axis when resampling must be done separately along it, else nullopt
// (determine_do_sep_z_and_axis).
std::optional<int> separateZAxis(const ResamplingParams& p, const Spacing3& current, const Spacing3& target);

// resample_data_or_seg_to_shape (is_seg false). Channels are resampled one by one; the result has
// `new_shape`. The input is returned unchanged when its shape already is `new_shape`.
ImageGrid resampleToShape(const ImageGrid& in, const Shape3& new_shape, const Spacing3& current,
                          const Spacing3& target, const ResamplingParams& p);

}  // namespace ctd::nnunet
