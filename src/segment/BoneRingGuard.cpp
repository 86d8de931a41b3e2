#include "segment/BoneRingGuard.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ctd {
namespace {

// One horizontal run of non-bone pixels [begin, end) in row `row`: the slice
// is labelled run by run (union-find), not pixel by pixel, because a 512x512
// slice holds a few thousand runs but a quarter of a million pixels.
struct Run {
  std::uint32_t row, begin, end;
};

bool anySet(const std::uint8_t* p, std::size_t n) {
  // OR over blocks so that the compiler vectorises; stop at the first block hit.
  constexpr std::size_t kBlock = 4096;
  for (std::size_t at = 0; at < n; at += kBlock) {
    const std::size_t stop = std::min(n, at + kBlock);
    std::uint8_t acc = 0;
    for (std::size_t q = at; q < stop; ++q) acc |= p[q];
    if (acc) return true;
  }
  return false;
}

class RunLabels {
 public:
  RunLabels(const float* hu, std::size_t w, std::size_t h, double bone_hu) {
    row_first_.reserve(h + 1);
    for (std::size_t j = 0; j < h; ++j) {
      row_first_.push_back(static_cast<std::uint32_t>(runs_.size()));
      const float* row = hu + j * w;
      std::size_t i = 0;
      while (i < w) {
        while (i < w && !(row[i] <= bone_hu)) ++i;
        if (i == w) break;
        const std::size_t b = i;
        while (i < w && row[i] <= bone_hu) ++i;
        runs_.push_back({static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(i)});
      }
    }
    row_first_.push_back(static_cast<std::uint32_t>(runs_.size()));
    const std::size_t n = runs_.size();
    root_.resize(n);
    for (std::size_t r = 0; r < n; ++r) root_[r] = static_cast<std::uint32_t>(r);
    // Runs of adjacent rows that share a column touch (4-connectivity).
    for (std::size_t j = 1; j < h; ++j) {
      std::size_t a = row_first_[j - 1];
      const std::size_t a_end = row_first_[j];
      for (std::size_t b = row_first_[j]; b < row_first_[j + 1]; ++b) {
        while (a < a_end && runs_[a].end <= runs_[b].begin) ++a;
        for (std::size_t o = a; o < a_end && runs_[o].begin < runs_[b].end; ++o) unite(o, b);
      }
    }
    // The root of a component is its first run in raster order (unite keeps
    // the smaller index), i.e. the run holding its first pixel.
    outside_.assign(n, 0);
    for (std::size_t r = 0; r < n; ++r) {
      root_[r] = find(r);
      const Run& u = runs_[r];
      if (u.row == 0 || u.row + 1 == h || u.begin == 0 || u.end == w) outside_[root_[r]] = 1;
    }
  }

  const std::vector<Run>& runs() const { return runs_; }
  std::uint32_t root(std::size_t r) const { return root_[r]; }
  // Reachable from the slice border through non-bone pixels.
  bool outside(std::size_t root) const { return outside_[root]; }

 private:
  std::uint32_t find(std::size_t r) {
    while (root_[r] != r) r = root_[r] = root_[root_[r]];
    return static_cast<std::uint32_t>(r);
  }
  void unite(std::size_t a, std::size_t b) {
    const std::uint32_t ra = find(a), rb = find(b);
    if (ra < rb)
      root_[rb] = ra;
    else
      root_[ra] = rb;
  }

  std::vector<Run> runs_;
  std::vector<std::uint32_t> row_first_;  // first run of each row, and the total at [h]
  std::vector<std::uint32_t> root_;
  std::vector<std::uint8_t> outside_;  // by root
};

// Mean HU of the enclosed region whose first pixel is q0, summed in the order
// of a depth-first stack flood (left, right, up, down): the mean decides
// against the thresholds, and a sum in another order can differ in its last
// bit. Only the few regions at the caps holding masked pixels need it.
double meanInStackOrder(const float* hu, std::size_t w, std::size_t h, double bone_hu, std::size_t q0,
                        std::vector<std::uint8_t>& seen, std::vector<std::size_t>& stack) {
  std::size_t size = 0;
  double sum = 0;
  seen[q0] = 1, stack.push_back(q0);
  // Every non-bone neighbour of an enclosed region's pixel is in that region.
  auto visit = [&](std::size_t q) {
    if (!seen[q] && hu[q] <= bone_hu) seen[q] = 1, stack.push_back(q);
  };
  while (!stack.empty()) {
    const std::size_t q = stack.back();
    stack.pop_back();
    ++size;
    sum += hu[q];
    const std::size_t i = q % w, j = q / w;
    if (i > 0) visit(q - 1);
    if (i + 1 < w) visit(q + 1);
    if (j > 0) visit(q - w);
    if (j + 1 < h) visit(q + w);
  }
  return sum / static_cast<double>(size);
}

}  // namespace

std::size_t clearInsideBoneRing(const Volume& v, std::size_t k, double bone_hu, VoxelMask& mask, bool all_brain_like,
                                const std::function<bool(std::size_t)>& near_brain) {
  const std::size_t w = v.nx, h = v.ny, base = k * w * h;
  std::uint8_t* m = mask.data.data() + base;
  if (!anySet(m, w * h)) return 0;
  const float* hu = v.hu.data() + base;
  const RunLabels labels(hu, w, h, bone_hu);
  const std::vector<Run>& runs = labels.runs();
  const std::size_t n = runs.size();

  // Size of every enclosed region (all compete for "largest") and whether it
  // holds a masked pixel (only those can be cleared).
  std::vector<std::size_t> size(n, 0);
  std::vector<std::uint8_t> masked(n, 0);
  bool any_masked = false;
  for (std::size_t r = 0; r < n; ++r) {
    const std::uint32_t root = labels.root(r);
    if (labels.outside(root)) continue;
    const Run& u = runs[r];
    size[root] += u.end - u.begin;
    if (!masked[root] && anySet(m + u.row * w + u.begin, u.end - u.begin)) masked[root] = 1, any_masked = true;
  }
  if (!any_masked) return 0;
  // The largest enclosed region is the brain's (the first in raster order on
  // a tie); smaller ones are the nose, orbits and sinuses framed by facial bones.
  std::size_t largest = n, largest_size = 0;
  for (std::size_t r = 0; r < n; ++r)
    if (labels.root(r) == r && size[r] > largest_size) largest = r, largest_size = size[r];

  std::vector<std::uint8_t> brain(n, 0);
  std::vector<std::uint8_t> seen;
  std::vector<std::size_t> stack;
  const double pixel_mm2 = v.col_spacing * v.row_spacing;
  for (std::size_t r = 0; r < n; ++r) {
    if (labels.root(r) != r || !masked[r]) continue;
    if (r == largest) {
      bool near = all_brain_like;
      for (std::size_t s = r; s < n && !near; ++s) {
        if (labels.root(s) != r) continue;
        const std::size_t row = std::size_t{runs[s].row} * w;
        for (std::size_t i = runs[s].begin; i < runs[s].end && !near; ++i) near = near_brain(row + i);
      }
      brain[r] = near;
    } else if (all_brain_like && static_cast<double>(size[r]) * pixel_mm2 >= 100) {
      // Also any other enclosed region of brain-like mean HU over at least
      // 1 cm^2 (a sliver of brain can be smaller than a sinus in the same slice).
      if (seen.empty()) seen.assign(w * h, 0);
      const double mean = meanInStackOrder(hu, w, h, bone_hu, std::size_t{runs[r].row} * w + runs[r].begin, seen, stack);
      brain[r] = mean > -10 && mean < 80;
    }
  }
  std::size_t cleared = 0;
  for (std::size_t r = 0; r < n; ++r) {
    if (!brain[labels.root(r)]) continue;
    std::uint8_t* row = m + std::size_t{runs[r].row} * w;
    for (std::size_t i = runs[r].begin; i < runs[r].end; ++i)
      if (row[i]) row[i] = 0, ++cleared;
  }
  return cleared;
}

}  // namespace ctd
