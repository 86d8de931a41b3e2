#pragma once
// The U-Net of a UNetSpec on oneDNN: convolutions and transposed convolutions with weights reordered
// once into the blocked formats oneDNN picks, activations in nC(D)HW16c (or what the CPU prefers),
// fused InstanceNorm + residual + LeakyReLU, skip concatenation without copies where channel blocks
// allow, and one execution plan (primitives + activation arena) per input shape.
#include <dnnl.hpp>

#include <map>
#include <memory>
#include <vector>

#include "nn/Network.h"
#include "nn/UNetSpec.h"

namespace ctd::nn {

class OnednnUNet final : public Network {
 public:
  // Throws ctd::Error on a plans/checkpoint mismatch.
  OnednnUNet(UNetSpec spec, const CheckpointContents& checkpoint, const EngineOptions& options);
  ~OnednnUNet() override;

  Tensor forward(const Tensor& x) override;
  int inputChannels() const override { return spec_.inputChannels(); }
  int numClasses() const override { return spec_.numClasses(); }
  int dims() const override { return spec_.architecture().dims; }
  // Activation channel block oneDNN prefers on this CPU (16 with AVX-512, 8 with AVX2, 1 = plain).
  int channelBlock() const { return block_; }

 private:
  struct OpWeights {
    std::vector<float> weight, bias;  // torch layout
    std::vector<std::int64_t> weight_shape;
    std::vector<std::pair<dnnl::memory::desc, dnnl::memory>> reordered;  // per primitive weight format
  };
  class Plan;

  Plan& planFor(const std::vector<std::int64_t>& spatial);
  dnnl::memory weightsFor(int op, const dnnl::memory::desc& wanted);
  dnnl::memory::format_tag activationTag() const;
  dnnl::memory::format_tag plainTag() const;

  UNetSpec spec_;
  EngineOptions options_;
  dnnl::engine engine_;
  dnnl::stream stream_;
  int block_ = 1;
  std::vector<OpWeights> weights_;  // per op of spec_
  std::map<std::vector<std::int64_t>, std::unique_ptr<Plan>> plans_;
};

}  // namespace ctd::nn
