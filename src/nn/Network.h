#pragma once
// A trained nnU-Net network (PlainConvUNet / ResidualEncoderUNet, 2D or 3D) running on oneDNN.
#include <memory>

#include "nn/NnunetPlans.h"
#include "nn/Tensor.h"
#include "nn/TorchCheckpoint.h"

namespace ctd::nn {

struct EngineOptions {
  int threads = 0;    // 0 = all cores
  // Lets oneDNN run convolutions in bfloat16 (fpmath_mode::bf16) where the CPU has native BF16
  // (AVX512-BF16 / AMX). Where it has not, oneDNN 2.6 keeps float32 and the results are unchanged.
  bool bf16 = false;
};

class Network {
 public:
  virtual ~Network() = default;
  // x: 1 x C x D x H x W (3D) or 1 x C x H x W (2D), spatial sizes divisible by the total stride.
  // Returns the full-resolution logits, 1 x K x (same spatial size). Not thread-safe: one forward at a time.
  virtual Tensor forward(const Tensor& x) = 0;
  virtual int inputChannels() const = 0;
  virtual int numClasses() const = 0;
  virtual int dims() const = 0;
};

// Builds the network described by plans.architecture and loads the checkpoint's weights into it.
// Throws ctd::Error on a plans/checkpoint mismatch naming the first offending tensor (missing,
// extra, or wrong shape with both shapes).
std::unique_ptr<Network> buildNetwork(const NnunetPlans& plans, const CheckpointContents& checkpoint,
                                      int input_channels, int num_classes, const EngineOptions& options = {});

}  // namespace ctd::nn
