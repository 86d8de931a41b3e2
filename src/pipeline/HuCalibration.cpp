#include "pipeline/HuCalibration.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/Error.h"
#include "volume/SliceThreads.h"

namespace ctd {

HuCalibration checkHuCalibration(const Volume& v, std::optional<double> forced) {
  HuCalibration c;
  if (forced) {
    c.offset = *forced;
    if (*forced != 0) c.note = "values taken as HU + " + std::to_string(static_cast<long>(*forced)) + " (--hu-offset)";
    return c;
  }
  // Sample on a coarse lattice: the question is about the bulk of the voxels.
  // Each sample is a cache line of its own (a 512 x 512 x 300 series: 2 M of
  // them), so the lattice is counted in blocks on the case's slice threads;
  // counts are integers, the same whatever the split.
  const std::size_t step = std::max<std::size_t>(1, v.hu.size() / 2000000);
  const std::size_t samples = (v.hu.size() + step - 1) / step;
  constexpr std::size_t kBlock = 1 << 16;  // samples per block
  const std::size_t blocks = (samples + kBlock - 1) / kBlock;
  struct Counts {
    std::size_t n = 0, below_air = 0, near_zero = 0, negative = 0;
  };
  std::vector<Counts> per_block(blocks);
  forEachSlice(blocks, kBlock, [&](std::size_t b) {
    Counts k;
    const std::size_t end = std::min(samples, (b + 1) * kBlock);
    for (std::size_t s = b * kBlock; s < end; ++s) {
      const float x = v.hu[s * step];
      ++k.n;
      k.below_air += x < -500.f;
      k.negative += x < -50.f;
      k.near_zero += std::fabs(x) <= 100.f;
    }
    per_block[b] = k;
  });
  std::size_t n = 0, below_air = 0, near_zero = 0, negative = 0;
  for (const Counts& k : per_block)
    n += k.n, below_air += k.below_air, near_zero += k.near_zero, negative += k.negative;
  if (n == 0) return c;
  const double f_air = double(below_air) / n, f_neg = double(negative) / n, f_zero = double(near_zero) / n;
  if (f_air >= 0.005) return c;  // air or padding present: calibrated HU
  if (f_neg < 0.001 && f_zero >= 0.05) {
    // Nothing below zero but a large population at ~0: air stored as 0, i.e.
    // values are HU + 1024 with a header that says intercept 0.
    c.offset = 1024;
    c.note = "no air below -500 HU but " + std::to_string(static_cast<int>(f_zero * 100)) +
             "% of voxels near 0: values taken as HU + 1024 (the rescale header looks wrong; --hu-offset N sets it)";
    return c;
  }
  throw Error("values do not look like CT Hounsfield units (no air below -500 HU); check RescaleIntercept or pass --hu-offset");
}

}  // namespace ctd
