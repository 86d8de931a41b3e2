#include "segment/nnunet/NnunetPreprocessor.h"

#include "core/Error.h"
#include "segment/nnunet/IntensityNormalization.h"
#include "segment/nnunet/NnunetResampling.h"
#include "segment/nnunet/NonzeroCrop.h"

namespace ctd::nnunet {
namespace {

std::array<int, 3> perm3(const std::vector<int>& v, const char* what) {
  if (v.empty()) return {0, 1, 2};
  if (v.size() != 3) throw Error(std::string("plans.json: ") + what + " must have 3 entries");
  return {v[0], v[1], v[2]};
}

}  // namespace

Spacing3 targetSpacing(const nn::NnunetPlans& plans, const Spacing3& spacing_transposed) {
  const auto& s = plans.spacing;
  if (s.size() == 3) return {s[0], s[1], s[2]};
  if (s.size() == 2) return {spacing_transposed[0], s[0], s[1]};
  throw Error("plans.json: configuration spacing must have 2 or 3 entries");
}

PreprocessedCase preprocessCase(const ImageGrid& image, const Spacing3& spacing, const nn::NnunetPlans& plans) {
  if (image.channels != plans.numInputChannels())
    throw Error("the model expects " + std::to_string(plans.numInputChannels()) + " input channel(s), got " +
                std::to_string(image.channels));
  PreprocessedCase out;
  CaseProperties& p = out.props;
  p.spacing = spacing;
  p.transpose_forward = perm3(plans.transpose_forward, "transpose_forward");
  p.transpose_backward = perm3(plans.transpose_backward, "transpose_backward");
  const auto& tf = p.transpose_forward;

  ImageGrid data = transposeSpatial(image, tf);
  const Spacing3 original{spacing[tf[0]], spacing[tf[1]], spacing[tf[2]]};
  p.shape_before_cropping = data.shape;
  NonzeroCrop crop = cropToNonzero(data);
  p.bbox = crop.bbox;
  p.shape_after_cropping = crop.cropped.shape;
  data = std::move(crop.cropped);

  const Spacing3 target = targetSpacing(plans, original);
  const Shape3 new_shape = computeNewShape(data.shape, original, target);

  // Normalization before resampling, as nnU-Net does.
  for (int c = 0; c < data.channels; ++c) {
    const std::size_t ci = static_cast<std::size_t>(c);
    if (ci >= plans.normalization_schemes.size())
      throw Error("plans.json: no normalization scheme for channel " + std::to_string(c));
    const auto it = plans.foreground_intensity_properties_per_channel.find(c);
    const nn::IntensityProperties* props =
        it == plans.foreground_intensity_properties_per_channel.end() ? nullptr : &it->second;
    const bool use_mask = ci < plans.use_mask_for_norm.size() && plans.use_mask_for_norm[ci];
    normalizeChannel(data.channel(c), data.voxels(), plans.normalization_schemes[ci], use_mask, crop.mask, props);
  }
  out.data = resampleToShape(data, new_shape, original, target, resamplingParams(plans.resampling_data));
  return out;
}

}  // namespace ctd::nnunet
