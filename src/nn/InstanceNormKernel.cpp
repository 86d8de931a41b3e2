#include "nn/InstanceNormKernel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ctd::nn {

namespace {
// Spatial positions per work item: big enough to amortise scheduling, small enough to balance 2..64 threads.
constexpr std::int64_t kChunk = 8192;
}  // namespace

void instanceNormInPlace(float* x, const ChannelBlockedLayout& L, const InstanceNormParams& p) {
  const std::int64_t C = L.channels, S = L.spatial, B = L.block;
  const std::int64_t blocks = L.paddedChannels() / B;
  const std::int64_t chunks = (S + kChunk - 1) / kChunk;
  const std::int64_t items = blocks * chunks;
  const std::int64_t Cp = L.paddedChannels();

  // Sums in double, as torch accumulates float statistics on the CPU, so that 128^3 voxels lose nothing.
  const int threads = std::max(1, omp_get_max_threads());
  std::vector<double> sum(static_cast<std::size_t>(threads * Cp), 0.0), sq(sum.size(), 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    double* ts = sum.data() + t * Cp;
    double* tq = sq.data() + t * Cp;
#pragma omp for schedule(static)
    for (std::int64_t it = 0; it < items; ++it) {
      const std::int64_t cb = it / chunks, s0 = (it % chunks) * kChunk, s1 = std::min(S, s0 + kChunk);
      for (std::int64_t l = 0; l < B; ++l) {
        double a = 0, q = 0;
        const float* src = x + (cb * S + s0) * B + l;
        for (std::int64_t s = s0; s < s1; ++s, src += B) {
          const double v = *src;
          a += v;
          q += v * v;
        }
        ts[cb * B + l] += a;
        tq[cb * B + l] += q;
      }
    }
  }
  // y = (x - mean) * (gamma / std) + beta, in torch's order, so a large mean does not cancel out digits.
  std::vector<float> mu(static_cast<std::size_t>(Cp), 0.0f), scale(mu.size(), 0.0f), shift(mu.size(), 0.0f);
  for (std::int64_t c = 0; c < C; ++c) {
    double a = 0, q = 0;
    for (int t = 0; t < threads; ++t) {
      a += sum[static_cast<std::size_t>(t * Cp + c)];
      q += sq[static_cast<std::size_t>(t * Cp + c)];
    }
    const double mean = a / static_cast<double>(S);
    const double var = std::max(0.0, q / static_cast<double>(S) - mean * mean);
    const double inv = 1.0 / std::sqrt(var + static_cast<double>(p.eps));
    const double g = p.gamma ? p.gamma[c] : 1.0, b = p.beta ? p.beta[c] : 0.0;
    scale[static_cast<std::size_t>(c)] = static_cast<float>(inv * g);
    mu[static_cast<std::size_t>(c)] = static_cast<float>(mean);
    shift[static_cast<std::size_t>(c)] = static_cast<float>(b);
  }

  const float slope = p.leaky ? p.negative_slope : 1.0f;
  const float* res = p.residual;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (std::int64_t it = 0; it < items; ++it) {
    const std::int64_t cb = it / chunks, s0 = (it % chunks) * kChunk, s1 = std::min(S, s0 + kChunk);
    const float* m = mu.data() + cb * B;
    const float* sc = scale.data() + cb * B;
    const float* sh = shift.data() + cb * B;
    float* dst = x + (cb * S + s0) * B;
    const float* r = res ? res + (cb * S + s0) * B : nullptr;
    const std::int64_t n = (s1 - s0) * B;
    if (B == 1) {
      for (std::int64_t k = 0; k < n; ++k) {
        float v = (dst[k] - m[0]) * sc[0] + sh[0];
        if (r) v += r[k];
        dst[k] = v > 0 ? v : v * slope;
      }
    } else {
      for (std::int64_t k = 0; k < n; k += B) {
        for (std::int64_t l = 0; l < B; ++l) {
          float v = (dst[k + l] - m[l]) * sc[l] + sh[l];
          if (r) v += r[k + l];
          dst[k + l] = v > 0 ? v : v * slope;
        }
      }
    }
  }
}

}  // namespace ctd::nn
