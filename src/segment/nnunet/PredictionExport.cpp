#include "segment/nnunet/PredictionExport.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"

namespace ctd::nnunet {
namespace {

// Writes `inner` (shape box.size()) into a grid of `outer` shape filled with `fill`.
template <class T>
std::vector<T> uncrop(const std::vector<T>& inner, const Box3& box, const Shape3& outer, T fill) {
  std::vector<T> out(ImageGrid::voxels(outer), fill);
  const Shape3 s = box.size();
  std::size_t i = 0;
  for (std::int64_t z = 0; z < s[0]; ++z)
    for (std::int64_t y = 0; y < s[1]; ++y) {
      T* dst = out.data() + ((z + box.begin[0]) * outer[1] + y + box.begin[1]) * outer[2] + box.begin[2];
      std::copy(inner.begin() + static_cast<std::ptrdiff_t>(i), inner.begin() + static_cast<std::ptrdiff_t>(i + s[2]), dst);
      i += static_cast<std::size_t>(s[2]);
    }
  return out;
}

template <class T>
std::vector<T> transposeValues(const std::vector<T>& v, const Shape3& shape, const std::array<int, 3>& perm) {
  std::vector<T> out(v.size());
  const Shape3 os{shape[perm[0]], shape[perm[1]], shape[perm[2]]};
  const Shape3 ist{shape[1] * shape[2], shape[2], 1};
  std::size_t o = 0;
  for (std::int64_t a = 0; a < os[0]; ++a)
    for (std::int64_t b = 0; b < os[1]; ++b)
      for (std::int64_t c = 0; c < os[2]; ++c)
        out[o++] = v[static_cast<std::size_t>(a * ist[perm[0]] + b * ist[perm[1]] + c * ist[perm[2]])];
  return out;
}

}  // namespace

ExportedPrediction exportPrediction(const ImageGrid& logits, const CaseProperties& props,
                                    const Spacing3& config_spacing, const ResamplingParams& probabilities_resampling,
                                    const LabelScheme& labels, bool with_probabilities, bool half_logits) {
  const auto& tf = props.transpose_forward;
  const Spacing3 spacing_t{props.spacing[tf[0]], props.spacing[tf[1]], props.spacing[tf[2]]};
  ImageGrid res = resampleToShape(logits, props.shape_after_cropping, config_spacing, spacing_t,
                                  probabilities_resampling);
  const int K = res.channels;
  const std::size_t n = res.voxels();
  if (half_logits)
    for (float& v : res.data) v = static_cast<float>(static_cast<_Float16>(v));

  // Probabilities (softmax over channels, or sigmoid per region), in float32 like torch.
  const bool need_probs = with_probabilities || labels.has_regions;
  if (need_probs) {
    std::vector<float> tmp(static_cast<std::size_t>(K));
    for (std::size_t i = 0; i < n; ++i) {
      if (labels.has_regions) {
        for (int k = 0; k < K; ++k) {
          float& v = res.channel(k)[i];
          v = 1.0f / (1.0f + std::exp(-v));
        }
        continue;
      }
      float m = -INFINITY;
      for (int k = 0; k < K; ++k) m = std::max(m, res.channel(k)[i]);
      float sum = 0;
      for (int k = 0; k < K; ++k) {
        tmp[static_cast<std::size_t>(k)] = std::exp(res.channel(k)[i] - m);
        sum += tmp[static_cast<std::size_t>(k)];
      }
      for (int k = 0; k < K; ++k) res.channel(k)[i] = tmp[static_cast<std::size_t>(k)] / sum;
    }
  }

  std::vector<std::uint8_t> seg(n, 0);
  if (labels.has_regions) {
    if (labels.regions_class_order.size() != static_cast<std::size_t>(K))
      throw Error("region-based model: regions_class_order must have one entry per output channel");
    for (int k = 0; k < K; ++k) {
      const float* p = res.channel(k);
      const auto label = static_cast<std::uint8_t>(labels.regions_class_order[static_cast<std::size_t>(k)]);
      for (std::size_t i = 0; i < n; ++i)
        if (p[i] > 0.5f) seg[i] = label;
    }
  } else {
    // argmax, the first maximum on ties (torch.argmax); logits and probabilities agree.
    for (std::size_t i = 0; i < n; ++i) {
      int best = 0;
      float bv = res.channel(0)[i];
      for (int k = 1; k < K; ++k)
        if (res.channel(k)[i] > bv) {
          bv = res.channel(k)[i];
          best = k;
        }
      seg[i] = static_cast<std::uint8_t>(best);
    }
  }

  ExportedPrediction out;
  const Shape3 before = props.shape_before_cropping;
  const auto& tb = props.transpose_backward;
  out.shape = {before[tb[0]], before[tb[1]], before[tb[2]]};
  out.labels = transposeValues(uncrop(seg, props.bbox, before, std::uint8_t{0}), before, tb);
  if (with_probabilities) {
    out.probabilities = ImageGrid(K, out.shape);
    for (int k = 0; k < K; ++k) {
      std::vector<float> ch(res.channel(k), res.channel(k) + n);
      // Outside the crop box nnU-Net sets background to 1 (0 for regions).
      const float fill = (k == 0 && !labels.has_regions) ? 1.0f : 0.0f;
      const std::vector<float> t = transposeValues(uncrop(ch, props.bbox, before, fill), before, tb);
      std::copy(t.begin(), t.end(), out.probabilities.channel(k));
    }
  }
  return out;
}

}  // namespace ctd::nnunet
