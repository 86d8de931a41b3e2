#include "qc/SkinGrid.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"
#include "volume/GridResampler.h"
#include "volume/SliceBilinear.h"
#include "volume/SliceThreads.h"

namespace ctd::qc {

namespace {

constexpr float kOutsideHu = -1000.0f;

struct SliceSample {
  float hu = kOutsideHu;
  float mask = 0;
};

// Bilinear sample of native slice s at fractional column a, row b; false more
// than half a voxel outside (the grid's edge voxels still see the slice's edge).
bool sampleSlice(const Volume& v, const VoxelMask* mask, std::size_t s, double a, double b, SliceSample& out) {
  SliceBilinearTaps t;
  if (!sliceBilinearTaps(v.nx, v.ny, s, a, b, 0.5, t)) return false;
  out.hu = static_cast<float>(t.mix([&](std::size_t x) { return static_cast<double>(v.hu[x]); }));
  out.mask = mask ? static_cast<float>(t.mix([&](std::size_t x) { return mask->data[x] ? 1.0 : 0.0; })) : 0.0f;
  return true;
}

}  // namespace

std::vector<float> SkinGrid::defacedValues(double fill_hu) const {
  std::vector<float> out(hu.size());
  const float fill = static_cast<float>(fill_hu);
  for (std::size_t x = 0; x < hu.size(); ++x) out[x] = hu[x] + mask[x] * (fill - hu[x]);
  return out;
}

SkinGrid makeSkinGrid(const Volume& v, const VoxelMask* mask, double spacing) {
  if (v.nx == 0 || v.ny == 0 || v.nz == 0 || v.slice_pos.size() != v.nz || v.hu.size() != v.voxelCount())
    throw Error("qc: the series volume is empty or inconsistent");
  if (mask && mask->data.empty()) mask = nullptr;
  if (mask && (mask->nx != v.nx || mask->ny != v.ny || mask->nz != v.nz))
    throw Error("qc: the face mask is not on the series grid");
  const Volume geo = lpsGridFor(v, spacing);
  SkinGrid g;
  g.nx = geo.nx, g.ny = geo.ny, g.nz = geo.nz;
  g.spacing = spacing;
  g.origin = geo.slice_pos.front();
  g.hu.assign(g.nx * g.ny * g.nz, kOutsideHu);
  g.mask.assign(g.hu.size(), 0.0f);

  std::vector<double> off(v.nz);
  for (std::size_t k = 0; k < v.nz; ++k) off[k] = dot(v.slice_pos[k] - v.slice_pos[0], v.normal);
  // Half a gap of slack at both ends: the end slices stand for a slab, not a plane.
  const double gap = v.nz > 1 ? (off.back() - off.front()) / static_cast<double>(v.nz - 1) : spacing;
  const double lo = off.front() - gap / 2, hi = off.back() + gap / 2;

  forEachSlice(g.nz, g.nx * g.ny, [&](std::size_t k) {
    std::size_t s = 0;
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const Vec3 p = g.world(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        const double w = dot(p - v.slice_pos[0], v.normal);
        if (w < lo || w > hi) continue;
        while (s + 1 < v.nz && off[s + 1] <= w) ++s;
        while (s > 0 && off[s] > w) --s;
        const std::size_t s1 = std::min(s + 1, v.nz - 1);
        const double f = (s1 == s || w <= off[s]) ? 0.0 : std::min(1.0, (w - off[s]) / (off[s1] - off[s]));
        auto sampleAt = [&](std::size_t sl, SliceSample& out) {
          const Vec3 d = p - v.slice_pos[sl];
          return sampleSlice(v, mask, sl, dot(d, v.row_dir) / v.col_spacing, dot(d, v.col_dir) / v.row_spacing, out);
        };
        SliceSample a, b;
        const bool ha = sampleAt(s, a);
        const bool hb = f > 0 ? sampleAt(s1, b) : ha;
        if (!ha && !hb) continue;
        if (!ha) a = b;
        if (f == 0 || !hb) b = a;
        const std::size_t x = g.index(i, j, k);
        g.hu[x] = static_cast<float>(a.hu + f * (b.hu - a.hu));
        g.mask[x] = static_cast<float>(a.mask + f * (b.mask - a.mask));
      }
  });
  return g;
}

}  // namespace ctd::qc
