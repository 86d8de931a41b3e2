#include "nn/UNetSpec.h"

#include "core/Error.h"

namespace ctd::nn {

namespace {

std::vector<std::int64_t> convShape(int out, int in, const std::vector<int>& kernel) {
  std::vector<std::int64_t> s{out, in};
  for (int k : kernel) s.push_back(k);
  return s;
}

}  // namespace

UNetSpec::UNetSpec(const UNetArchitecture& arch, int input_channels, int num_classes)
    : arch_(arch), input_channels_(input_channels), num_classes_(num_classes) {
  const int n = arch.n_stages;
  if (n < 2) throw Error("a U-Net needs at least 2 stages, the plans have " + std::to_string(n));
  if (input_channels < 1 || num_classes < 1) throw Error("network needs at least one input channel and one class");
  if (arch.arch_kwargs.contains("pool") && arch.arch_kwargs["pool"].is_string() && arch.arch_kwargs["pool"] != "conv")
    throw Error("unsupported pooling \"" + arch.arch_kwargs["pool"].get<std::string>() + "\" (only strided convolutions)");

  int x = newBuffer(input_channels, 0);
  if (arch.kind == ArchitectureKind::ResidualEncoderUNet)
    x = convNormAct("encoder.stem.convs.0", x, arch.features_per_stage[0], 0, arch.kernel_sizes[0],
                    std::vector<int>(static_cast<std::size_t>(arch.dims), 1), true);
  std::vector<int> skips;
  for (int s = 0; s < n; ++s) {
    x = arch.kind == ArchitectureKind::PlainConvUNet ? plainStage(s, x) : residualStage(s, x);
    skips.push_back(x);
  }

  // UNetDecoder: stage d upsamples from level n-1-d to n-2-d and merges with that encoder skip.
  int lres = skips.back();
  for (int d = 0; d < n - 1; ++d) {
    const int level = n - 2 - d;
    const int below = arch.features_per_stage[static_cast<std::size_t>(level + 1)];
    const int ch = arch.features_per_stage[static_cast<std::size_t>(level)];
    const auto& stride = arch.strides[static_cast<std::size_t>(level + 1)];
    UNetOp up;
    up.kind = UNetOp::Kind::TransposedConv;
    up.in = lres;
    up.out = newBuffer(ch, level);
    const std::string tp = "decoder.transpconvs." + std::to_string(d);
    up.weight = {tp + ".weight", convShape(below, ch, stride)};
    if (arch.conv_bias) up.bias = {tp + ".bias", {ch}};
    up.kernel = up.stride = stride;
    up.padding = std::vector<int>(stride.size(), 0);
    ops_.push_back(up);

    UNetOp cat;
    cat.kind = UNetOp::Kind::Concat;
    cat.in = up.out;
    cat.residual = skips[static_cast<std::size_t>(level)];
    cat.out = newBuffer(2 * ch, level);
    ops_.push_back(cat);

    int y = cat.out;
    const auto& kernel = arch.kernel_sizes[static_cast<std::size_t>(level)];
    const std::vector<int> one(kernel.size(), 1);
    for (int c = 0; c < arch.n_conv_per_stage_decoder[static_cast<std::size_t>(d)]; ++c)
      y = convNormAct("decoder.stages." + std::to_string(d) + ".convs." + std::to_string(c), y, ch, level, kernel, one, true);
    lres = y;
  }

  UNetOp seg;
  seg.kind = UNetOp::Kind::Conv;
  seg.in = lres;
  seg.out = newBuffer(num_classes, 0);
  const std::string sp = "decoder.seg_layers." + std::to_string(n - 2);
  const std::vector<int> one(static_cast<std::size_t>(arch.dims), 1);
  seg.weight = {sp + ".weight", convShape(num_classes, arch.features_per_stage[0], one)};
  seg.bias = {sp + ".bias", {num_classes}};
  seg.kernel = seg.stride = one;
  seg.padding = std::vector<int>(one.size(), 0);
  ops_.push_back(seg);
  output_ = seg.out;
}

int UNetSpec::newBuffer(int channels, int level) {
  buffers_.push_back({channels, level});
  return static_cast<int>(buffers_.size()) - 1;
}

int UNetSpec::convNormAct(const std::string& prefix, int in, int out_channels, int level, const std::vector<int>& kernel,
                          const std::vector<int>& stride, bool nonlin, int residual) {
  UNetOp conv;
  conv.kind = UNetOp::Kind::Conv;
  conv.in = in;
  conv.out = newBuffer(out_channels, level);
  conv.weight = {prefix + ".conv.weight", convShape(out_channels, buffers_[static_cast<std::size_t>(in)].channels, kernel)};
  if (arch_.conv_bias) conv.bias = {prefix + ".conv.bias", {out_channels}};
  conv.kernel = kernel;
  conv.stride = stride;
  for (int k : kernel) conv.padding.push_back((k - 1) / 2);
  ops_.push_back(conv);

  UNetOp norm;
  norm.kind = UNetOp::Kind::InstanceNorm;
  norm.in = norm.out = conv.out;
  norm.residual = residual;
  if (arch_.norm_affine) {
    norm.weight = {prefix + ".norm.weight", {out_channels}};
    norm.bias = {prefix + ".norm.bias", {out_channels}};
  }
  norm.leaky = nonlin;
  ops_.push_back(norm);
  return conv.out;
}

int UNetSpec::plainStage(int s, int in) {
  const auto& kernel = arch_.kernel_sizes[static_cast<std::size_t>(s)];
  const int ch = arch_.features_per_stage[static_cast<std::size_t>(s)];
  int x = in;
  for (int c = 0; c < arch_.n_conv_per_stage[static_cast<std::size_t>(s)]; ++c) {
    const std::vector<int> stride = c == 0 ? arch_.strides[static_cast<std::size_t>(s)] : std::vector<int>(kernel.size(), 1);
    x = convNormAct("encoder.stages." + std::to_string(s) + ".0.convs." + std::to_string(c), x, ch, s, kernel, stride, true);
  }
  return x;
}

// StackedResidualBlocks of BasicBlockD: out = LeakyReLU(norm(conv2(conv1(x))) + skip(x)), where skip is
// identity, or AvgPool(stride) and/or 1x1 conv + norm when the block changes resolution or width.
int UNetSpec::residualStage(int s, int in) {
  const auto& kernel = arch_.kernel_sizes[static_cast<std::size_t>(s)];
  const int ch = arch_.features_per_stage[static_cast<std::size_t>(s)];
  const std::vector<int> one(kernel.size(), 1);
  int x = in;
  for (int b = 0; b < arch_.n_conv_per_stage[static_cast<std::size_t>(s)]; ++b) {
    const std::string prefix = "encoder.stages." + std::to_string(s) + ".blocks." + std::to_string(b);
    const std::vector<int> stride = b == 0 ? arch_.strides[static_cast<std::size_t>(s)] : one;
    const bool has_stride = stride != one;
    const bool projection = buffers_[static_cast<std::size_t>(x)].channels != ch;
    int residual = x;
    int skip_index = 0;
    if (has_stride) {
      UNetOp pool;
      pool.kind = UNetOp::Kind::AvgPool;
      pool.in = residual;
      pool.out = newBuffer(buffers_[static_cast<std::size_t>(x)].channels, s);
      pool.kernel = pool.stride = stride;
      pool.padding = std::vector<int>(stride.size(), 0);
      ops_.push_back(pool);
      residual = pool.out;
      ++skip_index;
    }
    if (projection) {
      UNetOp conv;
      conv.kind = UNetOp::Kind::Conv;
      conv.in = residual;
      conv.out = newBuffer(ch, s);
      const std::string sp = prefix + ".skip." + std::to_string(skip_index);
      conv.weight = {sp + ".conv.weight", convShape(ch, buffers_[static_cast<std::size_t>(residual)].channels, one)};
      conv.kernel = conv.stride = one;
      conv.padding = std::vector<int>(one.size(), 0);
      ops_.push_back(conv);
      UNetOp norm;
      norm.kind = UNetOp::Kind::InstanceNorm;
      norm.in = norm.out = conv.out;
      if (arch_.norm_affine) {
        norm.weight = {sp + ".norm.weight", {ch}};
        norm.bias = {sp + ".norm.bias", {ch}};
      }
      ops_.push_back(norm);
      residual = conv.out;
    }
    const int h = convNormAct(prefix + ".conv1", x, ch, s, kernel, stride, true);
    x = convNormAct(prefix + ".conv2", h, ch, s, kernel, one, true, residual);
  }
  return x;
}

std::vector<int> UNetSpec::totalStride() const {
  std::vector<int> t(static_cast<std::size_t>(arch_.dims), 1);
  for (const auto& s : arch_.strides)
    for (std::size_t a = 0; a < t.size(); ++a) t[a] *= s[a];
  return t;
}

bool UNetSpec::isUnusedAlias(const std::string& key, int n_stages) {
  if (key.find(".all_modules.") != std::string::npos) return true;
  if (key.rfind("decoder.encoder.", 0) == 0) return true;
  const std::string seg = "decoder.seg_layers.";
  if (key.rfind(seg, 0) == 0) {
    const std::string last = seg + std::to_string(n_stages - 2) + ".";
    return key.rfind(last, 0) != 0;
  }
  return false;
}

}  // namespace ctd::nn
