#include "pipeline/HuCalibration.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"

namespace ctd {

HuCalibration checkHuCalibration(const Volume& v, std::optional<double> forced) {
  HuCalibration c;
  if (forced) {
    c.offset = *forced;
    if (*forced != 0) c.note = "values taken as HU + " + std::to_string(static_cast<long>(*forced)) + " (--hu-offset)";
    return c;
  }
  // Sample on a coarse lattice: the question is about the bulk of the voxels.
  const std::size_t step = std::max<std::size_t>(1, v.hu.size() / 2000000);
  std::size_t n = 0, below_air = 0, near_zero = 0, negative = 0;
  for (std::size_t i = 0; i < v.hu.size(); i += step) {
    const float x = v.hu[i];
    ++n;
    below_air += x < -500.f;
    negative += x < -50.f;
    near_zero += std::fabs(x) <= 100.f;
  }
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
