// clearInsideBoneRing (src/segment/BoneRingGuard.cpp: runs of non-bone pixels
// labelled by union-find) against a frozen copy of the per-pixel stack flood it
// replaced (kept here, not in src/, as the specification): the mask and the
// count of cleared pixels must be identical bit for bit on random slices (bone
// rings, nested rings, rings open or touching the border, brain-like and
// other fills, masks in and out, 1x1 / 1xN / Nx1 / odd sizes, both
// all_brain_like, several near_brain shapes) and on every slice of the real
// GE head. Not covered: NaN HU (decoded pixels never are; the frozen flood
// seeded a region at a NaN pixel, the new code counts it as bone).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "segment/BoneRingGuard.h"

// ---- the implementation of commit dea9176 (GeometricSegmenter.cpp), unchanged
// but for its namespace ----
namespace ctd::bone_ring_reference {

// Clears masked voxels of native slice k that lie inside a closed ring of
// bone (flood fill of the non-bone pixels from the slice border) in the
// largest such region, whatever their HU (noise would let single brain voxels
// through). Returns how many were cleared.
// Away from the caps (`all_brain_like` false) only the largest region counts:
// there a globe framed by an orbit's rim in the slice is brain-like too.
// `near_brain(q)`: pixel q lies within the margin of the detected cavity; away
// from the caps the largest ring counts only when it does (in a tilted slice
// through the face the largest ring can be the teeth's around the tongue).
std::size_t clearInsideBoneRing(const Volume& v, std::size_t k, double bone_hu, VoxelMask& mask, bool all_brain_like,
                                const std::function<bool(std::size_t)>& near_brain) {
  const std::size_t w = v.nx, h = v.ny, base = k * w * h;
  bool any = false;
  for (std::size_t q = 0; q < w * h && !any; ++q) any = mask.data[base + q];
  if (!any) return 0;
  std::vector<std::uint8_t> outside(w * h, 0);
  std::vector<std::size_t> stack;
  auto push = [&](std::size_t q) {
    if (!outside[q] && v.hu[base + q] <= bone_hu) outside[q] = 1, stack.push_back(q);
  };
  for (std::size_t i = 0; i < w; ++i) push(i), push((h - 1) * w + i);
  for (std::size_t j = 0; j < h; ++j) push(j * w), push(j * w + w - 1);
  while (!stack.empty()) {
    const std::size_t q = stack.back();
    stack.pop_back();
    const std::size_t i = q % w, j = q / w;
    if (i > 0) push(q - 1);
    if (i + 1 < w) push(q + 1);
    if (j > 0) push(q - w);
    if (j + 1 < h) push(q + w);
  }
  // The largest enclosed region is the brain's; smaller ones are the nose,
  // orbits and sinuses framed by facial bones.
  std::vector<std::uint32_t> region(w * h, 0);
  std::vector<std::size_t> sizes{0};
  std::vector<double> sums{0};
  for (std::size_t q0 = 0; q0 < w * h; ++q0) {
    if (outside[q0] || region[q0] || v.hu[base + q0] > bone_hu) continue;
    const auto id = static_cast<std::uint32_t>(sizes.size());
    std::size_t size = 0;
    double sum = 0;
    region[q0] = id, stack.push_back(q0);
    while (!stack.empty()) {
      const std::size_t q = stack.back();
      stack.pop_back();
      ++size;
      sum += v.hu[base + q];
      const std::size_t i = q % w, j = q / w;
      for (std::size_t nq : {i > 0 ? q - 1 : q, i + 1 < w ? q + 1 : q, j > 0 ? q - w : q, j + 1 < h ? q + w : q})
        if (!outside[nq] && !region[nq] && v.hu[base + nq] <= bone_hu) region[nq] = id, stack.push_back(nq);
    }
    sizes.push_back(size);
    sums.push_back(sum);
  }
  const auto largest = static_cast<std::uint32_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
  bool largest_is_brain = all_brain_like;
  for (std::size_t q = 0; q < w * h && !largest_is_brain; ++q) largest_is_brain = region[q] == largest && near_brain(q);
  // Also any other enclosed region of brain-like mean HU over at least 1 cm^2
  // (a sliver of brain can be smaller than a sinus in the same slice).
  std::vector<std::uint8_t> brain(sizes.size(), 0);
  const double pixel_mm2 = v.col_spacing * v.row_spacing;
  for (std::size_t r = 1; r < sizes.size(); ++r) {
    const double mean = sums[r] / static_cast<double>(sizes[r]);
    brain[r] = (r == largest && largest_is_brain) || (all_brain_like && mean > -10 && mean < 80 && sizes[r] * pixel_mm2 >= 100);
  }
  std::size_t cleared = 0;
  for (std::size_t q = 0; q < w * h; ++q)
    if (mask.data[base + q] && brain[region[q]]) mask.data[base + q] = 0, ++cleared;
  return cleared;
}

}  // namespace ctd::bone_ring_reference

namespace ctd {
namespace {

using Near = std::function<bool(std::size_t)>;

// Paints a ring (ellipse outline of the given thickness) of value `hu` into
// slice k, with an optional gap that opens it.
void paintRing(Volume& v, std::size_t k, double ci, double cj, double ri, double rj, double thick, float hu, bool gap) {
  for (std::size_t j = 0; j < v.ny; ++j)
    for (std::size_t i = 0; i < v.nx; ++i) {
      const double di = (static_cast<double>(i) - ci) / ri, dj = (static_cast<double>(j) - cj) / rj;
      const double r = std::sqrt(di * di + dj * dj), t = thick / std::min(ri, rj);
      if (r < 1 - t || r > 1) continue;
      if (gap && di > 0.9 && std::abs(dj) < 0.3) continue;
      v.hu[(k * v.ny + j) * v.nx + i] = hu;
    }
}

struct RandomSlice {
  Volume v;
  VoxelMask mask;
  std::size_t k = 0;
  double bone_hu = 300;
};

RandomSlice randomSlice(std::mt19937& rng) {
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  RandomSlice s;
  Volume& v = s.v;
  static const std::size_t kSizes[] = {1, 1, 2, 3, 5, 7, 12, 17, 31, 40, 63, 64, 97};
  v.nx = kSizes[pick(13)], v.ny = kSizes[pick(13)], v.nz = 1 + pick(3);
  if (pick(4) == 0) v.nx = 1 + pick(3);  // 1xN, 2xN, 3xN
  v.col_spacing = uni(0.3, 4.0), v.row_spacing = pick(2) ? v.col_spacing : uni(0.3, 4.0);
  s.k = pick(static_cast<int>(v.nz));
  s.bone_hu = pick(3) ? 300.0 : uni(100, 700);
  v.hu.assign(v.nx * v.ny * v.nz, 0.0f);
  // Background: air, soft tissue, brain-like or mixed, with fractional noise.
  const int style = pick(4);
  for (float& x : v.hu) {
    const double base = style == 0 ? -1000 : style == 1 ? 35 : style == 2 ? uni(-300, 200) : (pick(2) ? -1000 : 40);
    x = static_cast<float>(base + uni(-25, 25));
  }
  const double w = static_cast<double>(v.nx), h = static_cast<double>(v.ny);
  // Rings: closed, open, nested, some running off or onto the border.
  const int rings = pick(6);
  for (int r = 0; r < rings; ++r) {
    const double ci = uni(-0.2, 1.2) * w, cj = uni(-0.2, 1.2) * h;
    const double ri = uni(1.5, 0.7 * w + 2), rj = uni(1.5, 0.7 * h + 2);
    const float bone = static_cast<float>(pick(5) == 0 ? s.bone_hu + 0.0 : s.bone_hu + uni(1, 1500));
    const bool gap = pick(5) == 0;
    paintRing(v, s.k, ci, cj, ri, rj, uni(0.6, 2.5), bone, gap);
    if (pick(3) == 0) paintRing(v, s.k, ci, cj, 0.5 * ri, 0.5 * rj, uni(0.6, 2.0), bone, false);  // nested
  }
  // Exactly bone_hu is not bone; one above is.
  const int speckles = pick(4) == 0 ? pick(static_cast<int>(v.nx * v.ny / 4 + 1)) : pick(4);
  for (int i = 0; i < speckles; ++i)
    v.hu[s.k * v.nx * v.ny + static_cast<std::size_t>(pick(static_cast<int>(v.nx * v.ny)))] =
        pick(2) ? static_cast<float>(s.bone_hu) : std::nextafter(static_cast<float>(s.bone_hu), 1e9f);
  // Mask: empty, sparse, blobs or full, in the tested slice and its neighbours.
  s.mask = VoxelMask(v.nx, v.ny, v.nz);
  const int mstyle = pick(5);
  const double density = mstyle == 0 ? 0.0 : mstyle == 1 ? 0.01 : mstyle == 2 ? 0.3 : mstyle == 3 ? 1.0 : 0.7;
  for (std::size_t q = 0; q < s.mask.data.size(); ++q) s.mask.data[q] = uni(0, 1) < density ? 1 : 0;
  if (mstyle == 4) {  // a box only
    const std::size_t i0 = pick(static_cast<int>(v.nx)), j0 = pick(static_cast<int>(v.ny));
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i)
        if (i < i0 || j < j0) s.mask.data[(s.k * v.ny + j) * v.nx + i] = 0;
  }
  return s;
}

std::vector<Near> nearPredicates(std::mt19937& rng, std::size_t w, std::size_t h) {
  const std::size_t n = w * h;
  const std::size_t one = std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  const double ci = std::uniform_real_distribution<double>(0, static_cast<double>(w))(rng);
  const double cj = std::uniform_real_distribution<double>(0, static_cast<double>(h))(rng);
  const double rad = std::uniform_real_distribution<double>(0.5, static_cast<double>(std::max(w, h)))(rng);
  return {
      [](std::size_t) { return false; },
      [](std::size_t) { return true; },
      [one](std::size_t q) { return q == one; },
      [w, ci, cj, rad](std::size_t q) {
        const double di = static_cast<double>(q % w) - ci, dj = static_cast<double>(q / w) - cj;
        return di * di + dj * dj < rad * rad;
      },
      [w, ci](std::size_t q) { return static_cast<double>(q % w) > ci; },
      [n](std::size_t q) { return q + 1 == n; },
  };
}

struct Tally {
  int compared = 0, cleared_cases = 0, cleared_caps = 0, cleared_largest_only = 0;
};

void compareOne(const RandomSlice& s, bool all_brain_like, const Near& near, Tally& t, const std::string& what) {
  VoxelMask old_mask = s.mask, new_mask = s.mask;
  const std::size_t old_n = bone_ring_reference::clearInsideBoneRing(s.v, s.k, s.bone_hu, old_mask, all_brain_like, near);
  const std::size_t new_n = clearInsideBoneRing(s.v, s.k, s.bone_hu, new_mask, all_brain_like, near);
  ASSERT_EQ(new_n, old_n) << what;
  ASSERT_TRUE(new_mask.data == old_mask.data) << what;
  ++t.compared;
  if (old_n) ++t.cleared_cases, ++(all_brain_like ? t.cleared_caps : t.cleared_largest_only);
}

TEST(BoneRingGuardEquivalence, RandomSlicesBitIdentical) {
  std::mt19937 rng(20261129);
  Tally t;
  for (int trial = 0; trial < 3000; ++trial) {
    const RandomSlice s = randomSlice(rng);
    const auto preds = nearPredicates(rng, s.v.nx, s.v.ny);
    for (bool all : {false, true})
      for (std::size_t p = 0; p < preds.size(); ++p) {
        compareOne(s, all, preds[p],
                   t, "trial " + std::to_string(trial) + " " + std::to_string(s.v.nx) + "x" + std::to_string(s.v.ny) +
                          " all_brain_like " + std::to_string(all) + " predicate " + std::to_string(p));
        if (::testing::Test::HasFatalFailure()) return;
      }
  }
  // The comparison means little unless both kinds of clearing happened often.
  EXPECT_GT(t.cleared_caps, 1000) << t.compared;
  EXPECT_GT(t.cleared_largest_only, 300) << t.compared;
}

// Brain-like fills of about 1 cm^2 at the caps: the mean and the area decide,
// so region sizes straddle the threshold and fills straddle -10 and 80 HU.
TEST(BoneRingGuardEquivalence, CapRegionsAtTheThresholds) {
  std::mt19937 rng(7);
  Tally t;
  for (int trial = 0; trial < 400; ++trial) {
    RandomSlice s;
    Volume& v = s.v;
    v.nx = 41, v.ny = 23, v.nz = 1;
    v.col_spacing = v.row_spacing = std::uniform_real_distribution<double>(0.9, 1.6)(rng);
    v.hu.assign(v.nx * v.ny, -1000.0f);
    std::uniform_real_distribution<double> fill(-14, 84), noise(-0.4, 0.4);
    // Three rectangles of bone side by side, each enclosing a fill.
    for (int b = 0; b < 3; ++b) {
      const std::size_t i0 = 1 + 13 * static_cast<std::size_t>(b), i1 = i0 + 11, j0 = 1, j1 = 21;
      const double f = fill(rng);
      for (std::size_t j = j0; j <= j1; ++j)
        for (std::size_t i = i0; i <= i1; ++i)
          v.hu[j * v.nx + i] = (i == i0 || i == i1 || j == j0 || j == j1) ? 1000.0f : static_cast<float>(f + noise(rng));
    }
    s.mask = VoxelMask(v.nx, v.ny, 1);
    for (auto& m : s.mask.data) m = 1;
    for (bool all : {false, true}) {
      compareOne(s, all, [](std::size_t) { return false; }, t, "trial " + std::to_string(trial));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(t.cleared_caps, 100);
}

// Every slice of a real head: skull, orbits, sinuses and the tilted gantry's
// rings, with the mask all set and near_brain a disc in the slice's middle.
TEST(BoneRingGuardEquivalence, RealGeHeadSlices) {
  const Discovery d = discoverCases(std::filesystem::path(CTD_SHARED_DATA) / "ct-head-ge-tilt");
  ASSERT_FALSE(d.cases.empty());
  const CaseInventory inv = assembleCase(d.cases.front());
  ASSERT_FALSE(inv.stacks.empty());
  RandomSlice s;
  s.v = loadVolume(inv, inv.stacks.front());
  const std::size_t w = s.v.nx, h = s.v.ny;
  s.mask = VoxelMask(w, h, s.v.nz);
  std::mt19937 rng(3);
  for (auto& m : s.mask.data) m = rng() % 4 != 0;
  const Near disc = [w, h](std::size_t q) {
    const double di = static_cast<double>(q % w) - 0.5 * static_cast<double>(w);
    const double dj = static_cast<double>(q / w) - 0.5 * static_cast<double>(h);
    return di * di + dj * dj < 0.01 * static_cast<double>(w * w);
  };
  Tally t;
  for (std::size_t k = 0; k < s.v.nz; ++k) {
    s.k = k;
    for (bool all : {false, true}) {
      compareOne(s, all, disc, t, "slice " + std::to_string(k));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  EXPECT_GT(t.cleared_largest_only, 5);
  EXPECT_GT(t.cleared_caps, 5);
}

}  // namespace
}  // namespace ctd
