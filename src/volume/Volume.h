#pragma once
// A CT volume in Hounsfield units on its native DICOM slice grid, with the exact
// per-slice geometry the scanner wrote. Tilted (sheared) and unevenly spaced
// stacks are represented exactly: voxel (i, j, k) is at
//     slice_pos[k] + i * col_spacing * row_dir + j * row_spacing * col_dir
// so every voxel maps back to its slice (file/frame), row j and column i.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/Vec3.h"
#include "volume/UnbackedZeros.h"

namespace ctd {

struct Volume {
  std::size_t nx = 0;  // columns (index i)
  std::size_t ny = 0;  // rows (index j)
  std::size_t nz = 0;  // slices (index k), sorted by ascending position along `normal`

  // Voxel values in HU, index (k * ny + j) * nx + i.
  std::vector<float> hu;

  Vec3 row_dir{1, 0, 0};  // X: direction in which the column index i grows (IOP[0..2])
  Vec3 col_dir{0, 1, 0};  // Y: direction in which the row index j grows (IOP[3..5])
  Vec3 normal{0, 0, 1};   // n = X x Y
  double col_spacing = 1;  // mm between columns (PixelSpacing[1])
  double row_spacing = 1;  // mm between rows (PixelSpacing[0])
  std::vector<Vec3> slice_pos;  // ImagePositionPatient of each slice k (LPS mm)

  std::size_t voxelCount() const { return nx * ny * nz; }
  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const { return (k * ny + j) * nx + i; }
  float& at(std::size_t i, std::size_t j, std::size_t k) { return hu[index(i, j, k)]; }
  float at(std::size_t i, std::size_t j, std::size_t k) const { return hu[index(i, j, k)]; }

  // Patient (LPS) position of a voxel; fractional indices allowed in-plane.
  Vec3 world(double i, double j, std::size_t k) const {
    return slice_pos[k] + (i * col_spacing) * row_dir + (j * row_spacing) * col_dir;
  }
};

// A binary voxel mask on the same grid as a Volume (1 = face, to be replaced).
struct VoxelMask {
  std::size_t nx = 0, ny = 0, nz = 0;
  std::vector<std::uint8_t> data;  // index (k * ny + j) * nx + i

  VoxelMask() = default;
  // All zero; pages only become resident where the mask is set (see UnbackedZeros.h).
  VoxelMask(std::size_t x, std::size_t y, std::size_t z) : nx(x), ny(y), nz(z) { resizeZeroedUnbacked(data, x * y * z); }
  static VoxelMask like(const Volume& v) { return VoxelMask(v.nx, v.ny, v.nz); }
  std::size_t index(std::size_t i, std::size_t j, std::size_t k) const { return (k * ny + j) * nx + i; }
  std::uint8_t at(std::size_t i, std::size_t j, std::size_t k) const { return data[index(i, j, k)]; }
  std::size_t count() const { return countNonZero(data.data(), data.size()); }
};

}  // namespace ctd
