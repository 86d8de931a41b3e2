#pragma once
// What replaces the face: the fill value and its application under the mask.
#include <string>

#include "volume/Volume.h"

namespace ctd {

struct FillSpec {
  enum Kind { Air, P10, Value } kind = Air;
  double value = -1000.0;  // used when kind == Value
};

// "air" | "p10" | a number in HU. Throws ctd::Error("fill", ...) on anything else.
FillSpec parseFillSpec(const std::string& text);

// HU to write: air = -1000; p10 = the image's 10th percentile (as CTA-DEFACE
// does); Value = the given number.
double fillValueHu(const Volume& v, const FillSpec& fill);

// Sets every voxel under `mask` to `hu`. Throws ctd::Error when the grids differ.
void applyMask(Volume& v, const VoxelMask& mask, double hu);

}  // namespace ctd
