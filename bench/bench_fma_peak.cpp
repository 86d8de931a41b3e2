// The CPU's float32 arithmetic ceiling: fused multiply-adds on registers only, on every thread
// OpenMP gives. A network engine's sustained GFLOP/s (bench/run_nnunet_bench.sh) is read against
// it: no float32 kernel, oneDNN's or ours, can go faster. Not a test.
//
//   bench_fma_peak [--seconds S]
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Twelve independent accumulator chains hide the FMA latency on two FMA ports.
constexpr int kChains = 12;

// The loop body is a macro so that each instruction set gets its own function with no vector-typed
// parameters (passing them would change the ABI between translation units compiled differently).
#define CTD_FMA_CHAINS(Vec, set1, fmadd, lanes)                                              \
  Vec acc[kChains];                                                                          \
  for (int i = 0; i < kChains; ++i) acc[i] = set1(1.0f + static_cast<float>(i) * 1e-3f);     \
  const Vec b = set1(0.999999f), c = set1(1e-7f);                                            \
  for (long n = 0; n < iterations; ++n) {                                                    \
    _Pragma("GCC unroll 12") for (int i = 0; i < kChains; ++i) acc[i] = fmadd(acc[i], b, c); \
  }                                                                                          \
  float first[lanes];                                                                        \
  for (int i = 0; i < kChains; ++i) {                                                        \
    std::memcpy(first, &acc[i], sizeof first);                                               \
    *sink += first[0]; /* keeps the loop from being optimised away */                        \
  }                                                                                          \
  return 2.0 * lanes * kChains * static_cast<double>(iterations);

__attribute__((target("avx512f"))) double run512(long iterations, float* sink) {
  CTD_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
}
__attribute__((target("avx2,fma"))) double run256(long iterations, float* sink) {
  CTD_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--seconds") seconds = std::atof(argv[i + 1]);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
    std::puts("no AVX2/FMA: no ceiling measured");
    return 0;
  }
  auto runOn = [&](long it) {
    double flop = 0;
    float sink = 0;
    const double t0 = omp_get_wtime();
#pragma omp parallel reduction(+ : flop, sink)
    flop += avx512 ? run512(it, &sink) : run256(it, &sink);
    const double t = omp_get_wtime() - t0;
    if (sink == 12345.0f) std::puts("");
    return std::pair<double, double>(flop, t);
  };
  // Calibrate the iteration count to the requested duration, then take the best of three.
  long it = 1 << 20;
  while (runOn(it).second < seconds / 10) it *= 2;
  it = static_cast<long>(static_cast<double>(it) * seconds / 3 / runOn(it).second);
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    const auto [flop, t] = runOn(it);
    best = std::max(best, flop / t / 1e9);
  }
  std::printf("fp32 FMA ceiling: %.0f GFLOP/s on %d threads (%s)\n", best, omp_get_max_threads(),
              avx512 ? "AVX-512" : "AVX2");
  return 0;
}
