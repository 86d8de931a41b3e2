#pragma once
// Binary morphology, connected components, per-slice hole filling and
// distance maps on a coarse isotropic grid. Each gives exactly what the ITK
// filter named in CoarseMorphology.cpp gives (same ball, same labels, same
// float values; bench_segment --verify compares them), written directly
// because the ITK pipelines cost several seconds per segmentation. Any faster
// version must stay identical to the frozen copy in
// tests/segment/CoarseMorphologyEquivalenceTest.cpp.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/Vec3.h"

namespace ctd::coarse {

struct Grid {
  std::size_t nx = 0, ny = 0, nz = 0;
  double spacing = 1;  // mm, isotropic
  std::size_t size() const { return nx * ny * nz; }
  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const { return (k * ny + j) * nx + i; }
};

using Bits = std::vector<std::uint8_t>;  // 0/1 per voxel, index (k * ny + j) * nx + i

Bits dilate(const Bits& m, const Grid& g, int radius);
Bits erode(const Bits& m, const Grid& g, int radius);
Bits open(const Bits& m, const Grid& g, int radius);
Bits close(const Bits& m, const Grid& g, int radius);

// Connected components (face connectivity); labels sorted by size (1 = largest), 0 = background.
struct Components {
  std::vector<std::uint32_t> label;
  std::vector<std::size_t> sizes;  // sizes[l - 1] = voxels of label l
};
Components components(const Bits& m, const Grid& g);
Bits largestComponent(const Bits& m, const Grid& g);

// Fills the holes of `m` in every 2-D slice perpendicular to axis `dim` (0 = x, 1 = y, 2 = z).
Bits fillHolesPerSlice(const Bits& m, const Grid& g, unsigned dim);

// Euclidean distance in mm to the nearest voxel of `m` (0 on `m` itself and
// negative inside it: minus the distance to the nearest voxel outside).
std::vector<float> signedDistance(const Bits& m, const Grid& g);

// Box mean over (2 radius + 1)^3 voxels.
std::vector<float> boxMean(const std::vector<float>& v, const Grid& g, int radius);

// Trilinear sample of a coarse scalar field at an LPS point; `origin` is the LPS
// position of voxel (0,0,0) and the grid axes are LPS. Outside -> `outside`.
// Inline: the segmenter's native guard calls it for every masked voxel.
inline float sampleField(const std::vector<float>& f, const Grid& g, const Vec3& origin, const Vec3& p,
                         float outside) {
  const double fx = (p[0] - origin[0]) / g.spacing, fy = (p[1] - origin[1]) / g.spacing,
               fz = (p[2] - origin[2]) / g.spacing;
  if (fx < 0 || fy < 0 || fz < 0 || fx > g.nx - 1.0 || fy > g.ny - 1.0 || fz > g.nz - 1.0) return outside;
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(fx), g.nx - 2);
  const std::size_t j = std::min<std::size_t>(static_cast<std::size_t>(fy), g.ny - 2);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(fz), g.nz - 2);
  const double ax = fx - i, ay = fy - j, az = fz - k;
  const float* c = f.data() + g.index(i, j, k);
  const std::size_t dy = g.nx, dz = g.nx * g.ny;
  const double c00 = c[0] * (1 - ax) + static_cast<double>(c[1]) * ax;
  const double c10 = c[dy] * (1 - ax) + static_cast<double>(c[dy + 1]) * ax;
  const double c01 = c[dz] * (1 - ax) + static_cast<double>(c[dz + 1]) * ax;
  const double c11 = c[dz + dy] * (1 - ax) + static_cast<double>(c[dz + dy + 1]) * ax;
  const double c0 = c00 * (1 - ay) + c10 * ay, c1 = c01 * (1 - ay) + c11 * ay;
  return static_cast<float>(c0 * (1 - az) + c1 * az);
}

// Where a trilinear field can reach `level`, per cell (the eight voxels from
// (i, j, k) to (i + 1, j + 1, k + 1)): 1 when every corner is >= level, 0 when
// every corner is below it, 2 when mixed. Trilinear weights are a convex
// combination, so a point in a cell of kind 0 or 1 needs no sampling.
struct CellLevels {
  Grid cells;  // (nx - 1) x (ny - 1) x (nz - 1)
  std::vector<std::uint8_t> kind;
  // The cell sampleField interpolates in, for grid coordinates within the grid.
  std::uint8_t at(double fx, double fy, double fz) const {
    return kind[cells.index(std::min(static_cast<std::size_t>(fx), cells.nx - 1),
                            std::min(static_cast<std::size_t>(fy), cells.ny - 1),
                            std::min(static_cast<std::size_t>(fz), cells.nz - 1))];
  }
};
CellLevels classifyCells(const std::vector<float>& f, const Grid& g, float level);

}  // namespace ctd::coarse
