#include "segment/Blend.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "core/Error.h"

namespace ctd {

FillSpec parseFillSpec(const std::string& text) {
  if (text == "air") return {FillSpec::Air, -1000.0};
  if (text == "p10") return {FillSpec::P10, 0.0};
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
    throw Error("fill", "'" + text + "' is not air, p10 or a number of HU");
  return {FillSpec::Value, value};
}

double fillValueHu(const Volume& v, const FillSpec& fill) {
  switch (fill.kind) {
    case FillSpec::Air: return -1000.0;
    case FillSpec::Value: return fill.value;
    case FillSpec::P10: break;
  }
  if (v.hu.empty()) return -1000.0;
  // nth_element on a copy: O(n), and the volume itself stays untouched.
  std::vector<float> copy(v.hu);
  const std::size_t rank = static_cast<std::size_t>(std::floor(0.10 * static_cast<double>(copy.size() - 1)));
  std::nth_element(copy.begin(), copy.begin() + static_cast<std::ptrdiff_t>(rank), copy.end());
  return copy[rank];
}

void applyMask(Volume& v, const VoxelMask& mask, double hu) {
  if (mask.nx != v.nx || mask.ny != v.ny || mask.nz != v.nz || mask.data.size() != v.hu.size())
    throw Error("mask", "mask grid does not match the volume grid");
  const float value = static_cast<float>(hu);
  for (std::size_t i = 0; i < v.hu.size(); ++i)
    if (mask.data[i]) v.hu[i] = value;
}

}  // namespace ctd
