#include "nn/InstanceNormKernel.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ctd::nn {

namespace {
// Spatial positions per work item: big enough to amortise scheduling, small enough to balance 2..64 threads.
constexpr std::int64_t kChunk = 8192;
constexpr int kMaxBlock = 16;

template <int B>
void accumulate(const float* src, std::int64_t n, double* a, double* q) {
  for (std::int64_t s = 0; s < n; ++s, src += B) {
#pragma omp simd
    for (int l = 0; l < B; ++l) {
      const double v = src[l];
      a[l] += v;
      q[l] += v * v;
    }
  }
}

// y = (x - mean) * scale + beta (+ residual), then LeakyReLU (slope 1 = none), for one chunk of B-lane vectors.
template <int B>
void apply(float* dst, const float* r, std::int64_t n, const float* m, const float* sc, const float* sh, float slope) {
  for (std::int64_t k = 0; k < n; k += B) {
#pragma omp simd
    for (int l = 0; l < B; ++l) {
      const int c = B == 1 ? 0 : l;
      float v = (dst[k + l] - m[c]) * sc[c] + sh[c];
      if (r) v += r[k + l];
      dst[k + l] = v > 0 ? v : v * slope;
    }
  }
}

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
      // Lanes innermost: contiguous loads, and the compiler keeps the B sums in vector registers.
      double a[kMaxBlock] = {}, q[kMaxBlock] = {};
      const float* src = x + (cb * S + s0) * B;
      if (B == 16) {
        accumulate<16>(src, s1 - s0, a, q);
      } else if (B == 8) {
        accumulate<8>(src, s1 - s0, a, q);
      } else {
        for (std::int64_t k = 0; k < (s1 - s0) * B; ++k) {
          const double v = src[k];
          a[k % B] += v;
          q[k % B] += v * v;
        }
      }
      for (std::int64_t l = 0; l < B; ++l) {
        ts[cb * B + l] += a[l];
        tq[cb * B + l] += q[l];
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
    if (B == 16)
      apply<16>(dst, r, n, m, sc, sh, slope);
    else if (B == 8)
      apply<8>(dst, r, n, m, sc, sh, slope);
    else
      apply<1>(dst, r, n, m, sc, sh, slope);
  }
}

}  // namespace ctd::nn
