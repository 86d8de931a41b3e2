#pragma once
// A downsampled, axis-aligned LPS copy of one series for quality control: the
// HU values and the face mask's coverage on the same isotropic grid. Renders
// and slice pictures are made from it, so the native grid (which can be
// tilted, unevenly spaced or half a gigabyte) is read only once.
#include <cstddef>
#include <vector>

#include "core/Vec3.h"
#include "volume/Volume.h"

namespace ctd::qc {

struct SkinGrid {
  std::size_t nx = 0, ny = 0, nz = 0;
  double spacing = 1.5;  // mm, isotropic
  Vec3 origin{0, 0, 0};  // LPS position of voxel (0, 0, 0); axes +x, +y, +z
  std::vector<float> hu;    // the original values; -1000 outside the series
  std::vector<float> mask;  // 0..1: fraction of the face mask around the point (0 without a mask)

  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const { return (k * ny + j) * nx + i; }
  bool empty() const { return hu.empty(); }
  Vec3 world(double i, double j, double k) const {
    return {origin[0] + i * spacing, origin[1] + j * spacing, origin[2] + k * spacing};
  }

  // The values the written series will hold: masked voxels replaced by `fill_hu`.
  std::vector<float> defacedValues(double fill_hu) const;
};

// Samples `v` (bilinear in its slices, linear between slices along the normal,
// so tilted and uneven stacks land where they are) onto an LPS grid of
// `spacing` mm covering the whole series. `mask` may be null or empty.
SkinGrid makeSkinGrid(const Volume& v, const VoxelMask* mask, double spacing = 1.5);

}  // namespace ctd::qc
