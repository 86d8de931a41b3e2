#pragma once
// InstanceNorm (batch 1, biased variance, optional affine) fused with the residual add and the
// LeakyReLU that follow it in nnU-Net's blocks: one pass for the statistics, one to apply.
#include "nn/ChannelBlockedLayout.h"

namespace ctd::nn {

struct InstanceNormParams {
  const float* gamma = nullptr;  // null: 1
  const float* beta = nullptr;   // null: 0
  float eps = 1e-5f;
  const float* residual = nullptr;  // same layout as x, added after the affine step
  bool leaky = false;
  float negative_slope = 0.01f;
};

// In place on x (layout `layout`); padded channels are left zero.
void instanceNormInPlace(float* x, const ChannelBlockedLayout& layout, const InstanceNormParams& p);

}  // namespace ctd::nn
