#include "segment/nnunet/IntensityNormalization.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"

namespace ctd::nnunet {
namespace {

// numpy's mean/std over float32 data; accumulated in double here (nnU-Net's float32 pairwise
// sums differ by ~1e-7 relative, far below anything the network resolves).
void meanStd(const float* v, std::size_t n, const std::vector<std::uint8_t>* mask, double& mean, double& std) {
  double s = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (!mask || (*mask)[i]) {
      s += v[i];
      ++count;
    }
  mean = count ? s / static_cast<double>(count) : 0.0;
  double q = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (!mask || (*mask)[i]) q += (v[i] - mean) * (v[i] - mean);
  std = count ? std::sqrt(q / static_cast<double>(count)) : 0.0;
}

}  // namespace

void normalizeChannel(float* v, std::size_t n, const std::string& scheme, bool use_mask_for_norm,
                      const std::vector<std::uint8_t>& mask, const nn::IntensityProperties* props) {
  constexpr double eps = 1e-8;
  if (scheme == "CTNormalization") {
    if (!props) throw Error("CTNormalization needs foreground_intensity_properties_per_channel in plans.json");
    const float lo = static_cast<float>(props->percentile_00_5), hi = static_cast<float>(props->percentile_99_5);
    const float mean = static_cast<float>(props->mean);
    const float div = static_cast<float>(std::max(props->std, eps));
    for (std::size_t i = 0; i < n; ++i) v[i] = (std::clamp(v[i], lo, hi) - mean) / div;
  } else if (scheme == "ZScoreNormalization") {
    const bool masked = use_mask_for_norm;
    double mean = 0, std = 0;
    meanStd(v, n, masked ? &mask : nullptr, mean, std);
    const float m = static_cast<float>(mean), d = static_cast<float>(std::max(std, eps));
    for (std::size_t i = 0; i < n; ++i)
      if (!masked || mask[i]) v[i] = (v[i] - m) / d;
  } else if (scheme == "NoNormalization") {
  } else if (scheme == "RescaleTo01Normalization") {
    if (n == 0) return;
    const float lo = *std::min_element(v, v + n);
    for (std::size_t i = 0; i < n; ++i) v[i] -= lo;
    const float hi = std::max(*std::max_element(v, v + n), static_cast<float>(eps));
    for (std::size_t i = 0; i < n; ++i) v[i] /= hi;
  } else if (scheme == "RGBTo01Normalization") {
    for (std::size_t i = 0; i < n; ++i)
      if (v[i] < 0.0f || v[i] > 255.0f) throw Error("RGBTo01Normalization: values outside [0, 255]; not an RGB image");
    for (std::size_t i = 0; i < n; ++i) v[i] /= 255.0f;
  } else {
    throw Error("normalization scheme '" + scheme + "' is not supported (CTNormalization, ZScoreNormalization, "
                "NoNormalization, RescaleTo01Normalization, RGBTo01Normalization)");
  }
}

}  // namespace ctd::nnunet
