#pragma once
// dynamic_network_architectures' PlainConvUNet / ResidualEncoderUNet (deep supervision off, eval mode)
// written out as a flat list of operations on numbered buffers, with the state_dict name and shape
// of every weight. Independent of the backend that runs it.
#include <cstdint>
#include <string>
#include <vector>

#include "nn/NnunetPlans.h"

namespace ctd::nn {

struct WeightRef {
  std::string name;                   // state_dict key
  std::vector<std::int64_t> shape;    // what the architecture needs
};

struct UNetOp {
  enum class Kind {
    Conv,            // in -> out; weight [O, I, k...], optional bias [O]; zero padding (k-1)/2
    TransposedConv,  // in -> out; weight [I, O, s...] (torch layout), bias [O]; kernel = stride
    InstanceNorm,    // in place on `out`; then `+ residual` if residual >= 0; then LeakyReLU if leaky
    AvgPool,         // in -> out; kernel = stride, no padding
    Concat,          // in (first) ++ residual (second) -> out, along channels
  };
  Kind kind = Kind::Conv;
  int in = -1, out = -1, residual = -1;
  WeightRef weight, bias;             // bias.name empty when none; InstanceNorm: weight = gamma, bias = beta
  std::vector<int> kernel, stride, padding;
  bool leaky = false;
};

struct UNetBuffer {
  int channels = 0;
  int level = 0;  // resolution level: total stride is the product of strides[0..level]
};

class UNetSpec {
 public:
  UNetSpec(const UNetArchitecture& arch, int input_channels, int num_classes);

  const std::vector<UNetOp>& ops() const { return ops_; }
  const std::vector<UNetBuffer>& buffers() const { return buffers_; }
  int inputBuffer() const { return 0; }
  int outputBuffer() const { return output_; }
  const UNetArchitecture& architecture() const { return arch_; }
  int inputChannels() const { return input_channels_; }
  int numClasses() const { return num_classes_; }
  double negativeSlope() const { return arch_.nonlin_negative_slope; }
  double eps() const { return arch_.norm_eps; }
  // Per axis, the product of all strides: input sizes must be multiples of it.
  std::vector<int> totalStride() const;
  // state_dict keys the network owns but never reads at inference: nn.Module aliases
  // (`all_modules`, the decoder's reference to the encoder) and the deep-supervision heads.
  static bool isUnusedAlias(const std::string& key, int n_stages);

 private:
  int newBuffer(int channels, int level);
  // ConvDropoutNormReLU: conv (+bias), InstanceNorm, optional LeakyReLU; returns the output buffer.
  int convNormAct(const std::string& prefix, int in, int out_channels, int level, const std::vector<int>& kernel,
                  const std::vector<int>& stride, bool nonlin, int residual = -1);
  int plainStage(int s, int in);
  int residualStage(int s, int in);

  UNetArchitecture arch_;
  int input_channels_, num_classes_;
  std::vector<UNetOp> ops_;
  std::vector<UNetBuffer> buffers_;
  int output_ = -1;
};

}  // namespace ctd::nn
