#pragma once
// nnU-Net's per-channel normalization schemes (default_normalization_schemes.py), with the same
// float32 arithmetic: CTNormalization, ZScoreNormalization (with and without use_mask_for_norm),
// NoNormalization, RescaleTo01Normalization, RGBTo01Normalization.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/NnunetPlans.h"

namespace ctd::nnunet {

// Normalizes `n` values in place. `mask` (same length, 1 = inside the non-zero region) is used only
// by ZScoreNormalization with use_mask_for_norm. Throws ctd::Error for an unknown scheme or
// RGB values outside [0, 255].
void normalizeChannel(float* values, std::size_t n, const std::string& scheme, bool use_mask_for_norm,
                      const std::vector<std::uint8_t>& mask, const nn::IntensityProperties* props);

}  // namespace ctd::nnunet
