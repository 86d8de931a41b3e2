#pragma once
// Synthetic Volumes for the volume tests: regular, oblique, sheared (gantry
// tilt) and unevenly spaced stacks, filled with known fields.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numbers>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "volume/Volume.h"

namespace ctd::testing {

// A stack whose slices sit at the given offsets along the normal, each shifted
// in-plane by offset * tan(tilt) along col_dir (how a tilted gantry shears).
inline Volume makeStack(std::size_t nx, std::size_t ny, const std::vector<double>& offsets, double tilt_deg = 0,
                        Vec3 row_dir = {1, 0, 0}, Vec3 col_dir = {0, 1, 0}, double col_spacing = 0.8,
                        double row_spacing = 0.7, Vec3 origin = {-20.5, -31.25, 12.0}) {
  Volume v;
  v.nx = nx;
  v.ny = ny;
  v.nz = offsets.size();
  v.row_dir = normalized(row_dir);
  v.col_dir = normalized(col_dir);
  v.normal = cross(v.row_dir, v.col_dir);
  v.col_spacing = col_spacing;
  v.row_spacing = row_spacing;
  const double shear = std::tan(tilt_deg * std::numbers::pi / 180.0);
  for (double w : offsets) v.slice_pos.push_back(origin + w * v.normal + (w * shear) * v.col_dir);
  v.hu.assign(v.voxelCount(), 0.0f);
  return v;
}

inline std::vector<double> evenOffsets(std::size_t n, double gap) {
  std::vector<double> o;
  for (std::size_t k = 0; k < n; ++k) o.push_back(static_cast<double>(k) * gap);
  return o;
}

// Fills every voxel with f(world position).
inline void fill(Volume& v, const std::function<double(const Vec3&)>& f) {
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i)
        v.at(i, j, k) = static_cast<float>(f(v.world(static_cast<double>(i), static_cast<double>(j), k)));
}

inline void fillRandom(Volume& v, unsigned seed, float lo = -1024, float hi = 2000) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (auto& x : v.hu) x = std::round(d(rng));
}

// A linear field: trilinear interpolation reproduces it exactly anywhere inside.
inline double linearField(const Vec3& p) { return 3.0 * p[0] - 2.0 * p[1] + 5.0 * p[2] + 7.0; }

// Same grid (size, spacing, axes, every slice position) within `tol` mm.
inline void expectSameGeometry(const Volume& a, const Volume& b, double tol = 1e-9) {
  ASSERT_EQ(a.nx, b.nx);
  ASSERT_EQ(a.ny, b.ny);
  ASSERT_EQ(a.nz, b.nz);
  EXPECT_NEAR(a.col_spacing, b.col_spacing, tol);
  EXPECT_NEAR(a.row_spacing, b.row_spacing, tol);
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(a.row_dir[r], b.row_dir[r], tol);
    EXPECT_NEAR(a.col_dir[r], b.col_dir[r], tol);
    EXPECT_NEAR(a.normal[r], b.normal[r], tol);
  }
  for (std::size_t k = 0; k < a.nz; ++k)
    for (int r = 0; r < 3; ++r) EXPECT_NEAR(a.slice_pos[k][r], b.slice_pos[k][r], tol) << "slice " << k;
}

inline std::filesystem::path scratchDir(const std::string& name) {
  const auto dir = std::filesystem::path(CTD_BINARY_DIR) / "test-scratch" / "volume" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace ctd::testing
