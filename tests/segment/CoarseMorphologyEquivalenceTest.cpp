// CoarseMorphology's primitives against a frozen copy of the implementation
// they replaced (kept here, not in src/, as the specification): every output
// must be identical bit for bit (masks, labels, sizes and float values), on
// random masks and fields, phantom-derived masks and HU, odd and degenerate
// grid sizes, several spacings, and phantoms sampled with anisotropic voxels.
// The frozen copy was itself checked against the ITK filters it replaced
// (bench_segment --verify), so this pins the segmenter's numbers too.
#include <gtest/gtest.h>

#include <itkBinaryBallStructuringElement.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "phantom/PhantomGenerator.h"
#include "segment/CoarseMorphology.h"
#include "volume/SliceThreads.h"

// ---- the implementation of commit 234b200, unchanged but for its namespace (and
// calls qualified with it, which argument-dependent lookup would make ambiguous) ----
namespace ctd::coarse_reference {
using coarse::Bits;
using coarse::Grid;
using coarse::Components;
namespace {

using Ball = itk::BinaryBallStructuringElement<std::uint8_t, 3>;

Ball ball(int radius) {
  Ball b;
  b.SetRadius(static_cast<unsigned long>(radius));
  b.CreateStructuringElement();
  return b;
}

// The ITK ball of `radius` as, for each (dy, dz) row it touches, the half-width
// of its run along x (the ball is symmetric and convex, so each row is one
// centred run). Taken from ITK itself so that the shape stays ITK's.
struct BallRow {
  int dy, dz, half;
};
std::vector<BallRow> ballRows(int radius) {
  const Ball b = ball(radius);
  const int size = 2 * radius + 1;
  std::vector<BallRow> rows;
  for (int dz = -radius; dz <= radius; ++dz)
    for (int dy = -radius; dy <= radius; ++dy) {
      int half = -1;
      for (int dx = -radius; dx <= radius; ++dx) {
        const std::size_t q = static_cast<std::size_t>(((dz + radius) * size + (dy + radius)) * size + (dx + radius));
        if (b[q]) half = std::max(half, std::abs(dx));
      }
      if (half >= 0) rows.push_back({dy, dz, half});
    }
  return rows;
}

// o[i] |= s[i] for a row, eight voxels per step (-O2 does not vectorise the byte loop).
void orInto(std::uint8_t* o, const std::uint8_t* s, std::size_t count) {
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    std::uint64_t a, b;
    std::memcpy(&a, o + i, 8);
    std::memcpy(&b, s + i, 8);
    a |= b;
    std::memcpy(o + i, &a, 8);
  }
  for (; i < count; ++i) o[i] |= s[i];
}

// out = 1 where any voxel of `m` lies under the ball centred there; voxels
// beyond the grid count as `outside`. A direct replacement for
// itk::BinaryDilateImageFilter (same ball, same result) that runs as runs
// along x OR-ed over the ball's rows, ~20x faster on the coarse grid.
Bits dilateRuns(const Bits& m, const Grid& g, int radius, std::uint8_t outside) {
  const std::vector<BallRow> rows = ballRows(radius);
  const std::size_t nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny;
  // Row-wise dilation along x for each half-width the ball uses.
  int max_half = 0;
  for (const BallRow& r : rows) max_half = std::max(max_half, r.half);
  std::vector<Bits> along_x(static_cast<std::size_t>(max_half) + 1);
  std::vector<std::uint8_t> used(along_x.size(), 0);
  for (const BallRow& r : rows) used[static_cast<std::size_t>(r.half)] = 1;
  for (std::size_t h = 0; h < along_x.size(); ++h) {
    if (!used[h]) continue;
    if (h == 0) {
      along_x[0] = m;
      continue;
    }
    Bits& dst = along_x[h];
    dst.assign(m.size(), 0);
    // dst = m OR-ed with itself shifted by 1..h columns either way, within each row.
    forEachSlice(nz, plane * h, [&](std::size_t k) {
      for (std::size_t j = 0; j < ny; ++j) {
        const std::uint8_t* src = &m[k * plane + j * nx];
        std::uint8_t* o = &dst[k * plane + j * nx];
        for (std::size_t i = 0; i < nx; ++i) o[i] = src[i];
        for (std::size_t d = 1; d <= h && d < nx; ++d) {
          orInto(o + d, src, nx - d);
          orInto(o, src + d, nx - d);
        }
        // A run reaching past the row's ends sees the outside value there.
        if (outside)
          for (std::size_t i = 0; i < nx; ++i)
            if (i < h || i + h >= nx) o[i] = 1;
      }
    });
  }
  Bits out(m.size(), 0);
  forEachSlice(nz, plane * rows.size(), [&](std::size_t k) {
    for (const BallRow& r : rows) {
      const long kk = static_cast<long>(k) + r.dz;
      const Bits& src = along_x[static_cast<std::size_t>(r.half)];
      for (std::size_t j = 0; j < ny; ++j) {
        std::uint8_t* o = &out[k * plane + j * nx];
        const long jj = static_cast<long>(j) + r.dy;
        if (kk < 0 || kk >= static_cast<long>(nz) || jj < 0 || jj >= static_cast<long>(ny)) {
          if (outside)
            for (std::size_t i = 0; i < nx; ++i) o[i] = 1;
          continue;
        }
        const std::uint8_t* s = &src[static_cast<std::size_t>(kk) * plane + static_cast<std::size_t>(jj) * nx];
        orInto(o, s, nx);
      }
    }
  });
  return out;
}

}  // namespace

Bits dilate(const Bits& m, const Grid& g, int radius) {
  if (radius <= 0) return m;
  // Beyond the grid is background (as itk::BinaryDilateImageFilter).
  return dilateRuns(m, g, radius, 0);
}

Bits erode(const Bits& m, const Grid& g, int radius) {
  if (radius <= 0) return m;
  // A voxel survives when no background voxel lies under the ball; voxels
  // beyond the grid do not erode the mask (a head cut by the field of view
  // stays whole), as itk::BinaryErodeImageFilter with SetBoundaryToForeground(true).
  Bits background(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) background[i] = m[i] ? 0 : 1;
  Bits out = dilateRuns(background, g, radius, 0);
  for (std::size_t i = 0; i < m.size(); ++i) out[i] = m[i] && !out[i];
  return out;
}

Bits open(const Bits& m, const Grid& g, int radius) {
  return coarse_reference::dilate(coarse_reference::erode(m, g, radius), g, radius);
}
Bits close(const Bits& m, const Grid& g, int radius) {
  return coarse_reference::erode(coarse_reference::dilate(m, g, radius), g, radius);
}

Components components(const Bits& m, const Grid& g) {
  // Face-connected flood fill. Labels are first numbered in raster order of
  // each component's first voxel, then sorted by size (ties keep that order):
  // the numbering itk::ConnectedComponentImageFilter + RelabelComponentImageFilter give.
  const std::size_t n = g.size(), nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny;
  std::vector<std::uint32_t> raw(n, 0);
  std::vector<std::size_t> sizes;
  std::vector<std::size_t> stack;
  for (std::size_t start = 0; start < n; ++start) {
    if (!m[start] || raw[start]) continue;
    const auto id = static_cast<std::uint32_t>(sizes.size() + 1);
    std::size_t size = 0;
    raw[start] = id;
    stack.push_back(start);
    while (!stack.empty()) {
      const std::size_t q = stack.back();
      stack.pop_back();
      ++size;
      const std::size_t i = q % nx, j = (q / nx) % ny, k = q / plane;
      auto visit = [&](std::size_t r) {
        if (m[r] && !raw[r]) raw[r] = id, stack.push_back(r);
      };
      if (i > 0) visit(q - 1);
      if (i + 1 < nx) visit(q + 1);
      if (j > 0) visit(q - nx);
      if (j + 1 < ny) visit(q + nx);
      if (k > 0) visit(q - plane);
      if (k + 1 < nz) visit(q + plane);
    }
    sizes.push_back(size);
  }
  std::vector<std::uint32_t> order(sizes.size());
  for (std::size_t l = 0; l < order.size(); ++l) order[l] = static_cast<std::uint32_t>(l);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return sizes[a] > sizes[b]; });
  std::vector<std::uint32_t> relabel(sizes.size() + 1, 0);
  Components c;
  c.sizes.resize(sizes.size());
  for (std::size_t r = 0; r < order.size(); ++r) {
    relabel[order[r] + 1] = static_cast<std::uint32_t>(r + 1);
    c.sizes[r] = sizes[order[r]];
  }
  c.label = std::move(raw);
  for (auto& l : c.label) l = relabel[l];
  return c;
}

Bits largestComponent(const Bits& m, const Grid& g) {
  const Components c = coarse_reference::components(m, g);
  Bits out(m.size(), 0);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = c.label[i] == 1;
  return out;
}

Bits fillHolesPerSlice(const Bits& m, const Grid& g, unsigned dim) {
  // A flood fill of the background from each slice's border, linear in the
  // voxel count: itk::SliceBySliceImageFilter + BinaryFillholeImageFilter
  // builds a pipeline per slice and took ~0.4 s per direction on a 130^3 grid.
  // Each slice is copied into a 2-D buffer with a one-pixel frame of
  // "outside" around it, so that the fill needs no bounds checks and no
  // divisions, and the slices are filled on two threads.
  const std::size_t n[3] = {g.nx, g.ny, g.nz};
  const unsigned ua = dim == 0 ? 1 : 0, ub = dim == 2 ? 1 : 2;  // in-slice axes
  const std::size_t stride[3] = {1, g.nx, g.nx * g.ny};
  const std::size_t na = n[ua], nb = n[ub], w = na + 2, h = nb + 2;
  Bits out(m.size(), 1);  // 1 = foreground or hole until reached from the border
  forEachSlice(n[dim], na * nb, [&](std::size_t s) {
    // 0 = background not reached yet, 1 = foreground, 2 = reached from the border.
    std::vector<std::uint8_t> buf(w * h, 2);
    std::vector<std::size_t> stack;
    const std::size_t base = s * stride[dim];
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t a = 0; a < na; ++a) buf[(b + 1) * w + a + 1] = m[base + a * stride[ua] + b * stride[ub]] ? 1 : 0;
    // Seeds: the slice's border pixels that are background.
    auto seed = [&](std::size_t q) {
      if (buf[q] == 0) buf[q] = 2, stack.push_back(q);
    };
    for (std::size_t a = 1; a <= na; ++a) seed(w + a), seed(nb * w + a);
    for (std::size_t b = 1; b <= nb; ++b) seed(b * w + 1), seed(b * w + na);
    // Scanline fill (same 4-connected result as a pixel-by-pixel one, about a
    // stack entry per run instead of per pixel): a popped pixel's run along the
    // row is filled, then the rows above and below it are looked at over that
    // run, and the first pixel of each background run there becomes a seed.
    // The frame (2) stops every walk.
    while (!stack.empty()) {
      const std::size_t q = stack.back();
      stack.pop_back();
      std::size_t l = q, r = q;
      while (buf[l - 1] == 0) buf[--l] = 2;
      while (buf[r + 1] == 0) buf[++r] = 2;
      for (const std::size_t row : {l - w, l + w}) {
        bool in_run = false;
        for (std::size_t x = row, end = row + (r - l); x <= end; ++x) {
          const bool open = buf[x] == 0;
          if (open && !in_run) buf[x] = 2, stack.push_back(x);
          in_run = open;
        }
      }
    }
    for (std::size_t b = 0; b < nb; ++b)
      for (std::size_t a = 0; a < na; ++a)
        if (buf[(b + 1) * w + a + 1] == 2) out[base + a * stride[ua] + b * stride[ub]] = 0;
  });
  return out;
}

std::vector<float> signedDistance(const Bits& m, const Grid& g) {
  // itk::SignedMaurerDistanceMapImageFilter (image spacing, not squared,
  // inside negative) ported step for step, so that its float results are
  // reproduced bit for bit (its float arithmetic rounds, an exact transform
  // would differ in rare voxels), without its pipeline overhead and with the
  // lines of each pass shared by two threads.
  const std::size_t nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny, n = g.size();
  const std::size_t size[3] = {nx, ny, nz}, stride[3] = {1, nx, plane};
  constexpr float kFar = std::numeric_limits<float>::max();
  // Sites: the object's contour, i.e. object voxels with a background voxel
  // among their 26 neighbours inside the grid (ITK's fully connected
  // BinaryContourImageFilter): object AND NOT its 3x3x3 erosion, with voxels
  // beyond the grid counted as object.
  Bits inner = m;
  for (unsigned d = 0; d < 3; ++d) {
    Bits next(n);
    for (std::size_t idx = 0; idx < n; ++idx) {
      const std::size_t p = (idx / stride[d]) % size[d];
      next[idx] = inner[idx] && (p == 0 || inner[idx - stride[d]]) && (p + 1 == size[d] || inner[idx + stride[d]]);
    }
    inner.swap(next);
  }
  std::vector<float> out(n);
  for (std::size_t idx = 0; idx < n; ++idx) out[idx] = m[idx] && !inner[idx] ? 0.0f : kFar;
  const float spacing = static_cast<float>(g.spacing);
  // Maurer's Remove: whether the middle parabola is hidden by its neighbours.
  auto hidden = [](float d1, float d2, float df, float x1, float x2, float xf) {
    const float a = x2 - x1, b = xf - x2, c = xf - x1;
    const float value = (c * std::abs(d2) - b * std::abs(d1) - a * std::abs(df) - a * b * c);
    return value > 0;
  };
  for (unsigned d = 0; d < 3; ++d) {
    const std::size_t nd = size[d], st = stride[d];
    // The two other axes; lines are handed out by the outer one.
    const unsigned e1 = d == 0 ? 1 : 0, e2 = d == 2 ? 1 : 2;
    forEachSlice(size[e2], size[e1] * nd, [&](std::size_t o2) {
      std::vector<float> gv(nd), hv(nd);
      for (std::size_t o1 = 0; o1 < size[e1]; ++o1) {
        float* line = &out[o2 * stride[e2] + o1 * stride[e1]];
        int l = -1;
        for (std::size_t i = 0; i < nd; ++i) {
          const float di = line[i * st];
          const float iw = static_cast<float>(i) * spacing;
          if (di == kFar) continue;
          if (l < 1) {
            ++l;
          } else {
            while (l >= 1 && hidden(gv[l - 1], gv[l], di, hv[l - 1], hv[l], iw)) --l;
            ++l;
          }
          gv[l] = di, hv[l] = iw;
        }
        if (l == -1) continue;
        const int ns = l;
        l = 0;
        for (std::size_t i = 0; i < nd; ++i) {
          const float iw = static_cast<float>(static_cast<double>(i) * g.spacing);
          float d1 = std::abs(gv[l]) + (hv[l] - iw) * (hv[l] - iw);
          while (l < ns) {
            const float d2 = std::abs(gv[l + 1]) + (hv[l + 1] - iw) * (hv[l + 1] - iw);
            if (d1 <= d2) break;
            ++l;
            d1 = d2;
          }
          line[i * st] = d1;
        }
      }
    });
  }
  for (std::size_t idx = 0; idx < n; ++idx) {
    const auto v = static_cast<float>(std::sqrt(static_cast<double>(std::abs(out[idx]))));
    out[idx] = m[idx] ? 0.0f - v : v;  // +0 on the contour, as ITK gives
  }
  return out;
}

std::vector<float> boxMean(const std::vector<float>& v, const Grid& g, int radius) {
  // The sum of itk::MeanImageFilter: edge voxels repeated beyond the grid
  // (zero-flux Neumann), neighbours added in ITK's order (x fastest) in
  // double and divided by the neighbourhood size, so the values match it bit
  // for bit (thresholds downstream must not move).
  const long r = std::max(radius, 0);
  const std::size_t nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny;
  auto clamped = [r](std::size_t count, std::size_t stride) {
    std::vector<std::size_t> off(count * static_cast<std::size_t>(2 * r + 1));
    for (std::size_t p = 0; p < count; ++p)
      for (long d = -r; d <= r; ++d) {
        const long q = std::clamp(static_cast<long>(p) + d, 0L, static_cast<long>(count) - 1);
        off[p * static_cast<std::size_t>(2 * r + 1) + static_cast<std::size_t>(d + r)] = static_cast<std::size_t>(q) * stride;
      }
    return off;
  };
  const std::vector<std::size_t> ox = clamped(nx, 1), oy = clamped(ny, nx), oz = clamped(nz, plane);
  const std::size_t w = static_cast<std::size_t>(2 * r + 1);
  const double count = static_cast<double>(w * w * w);
  std::vector<float> out(v.size());
  // Whole rows at a time: each voxel still adds its neighbours in ITK's order
  // (z, then y, then x outermost to innermost), but the loop over the row's
  // voxels is innermost so that it vectorises.
  forEachSlice(nz, plane * w * w * w, [&](std::size_t k) {
    std::vector<double> sum(nx);
    for (std::size_t j = 0; j < ny; ++j) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::size_t c = 0; c < w; ++c)
        for (std::size_t b = 0; b < w; ++b) {
          const float* row = &v[oz[k * w + c] + oy[j * w + b]];
          // Away from the row's ends the neighbour at offset a - r is just
          // row[i + a - r]: no index table, so the loop vectorises.
          const std::size_t lo = std::min(nx, static_cast<std::size_t>(r));
          const std::size_t hi = std::max(lo, nx - lo);
          for (std::size_t a = 0; a < w; ++a) {
            for (std::size_t i = 0; i < lo; ++i) sum[i] += static_cast<double>(row[ox[i * w + a]]);
            if (hi > lo) {
              const float* from = row + a;  // row[i + a - r] with lo = r
              for (std::size_t i = lo; i < hi; ++i) sum[i] += static_cast<double>(from[i - lo]);
            }
            for (std::size_t i = hi; i < nx; ++i) sum[i] += static_cast<double>(row[ox[i * w + a]]);
          }
        }
      float* o = &out[k * plane + j * nx];
      for (std::size_t i = 0; i < nx; ++i) o[i] = static_cast<float>(sum[i] / count);
    }
  });
  return out;
}

float sampleField(const std::vector<float>& f, const Grid& g, const Vec3& origin, const Vec3& p, float outside) {
  const double fx = (p[0] - origin[0]) / g.spacing, fy = (p[1] - origin[1]) / g.spacing,
               fz = (p[2] - origin[2]) / g.spacing;
  if (fx < 0 || fy < 0 || fz < 0 || fx > g.nx - 1.0 || fy > g.ny - 1.0 || fz > g.nz - 1.0) return outside;
  const std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(fx), g.nx - 2);
  const std::size_t j = std::min<std::size_t>(static_cast<std::size_t>(fy), g.ny - 2);
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(fz), g.nz - 2);
  const double ax = fx - i, ay = fy - j, az = fz - k;
  auto at = [&](std::size_t a, std::size_t b, std::size_t c) { return static_cast<double>(f[g.index(a, b, c)]); };
  const double c00 = at(i, j, k) * (1 - ax) + at(i + 1, j, k) * ax;
  const double c10 = at(i, j + 1, k) * (1 - ax) + at(i + 1, j + 1, k) * ax;
  const double c01 = at(i, j, k + 1) * (1 - ax) + at(i + 1, j, k + 1) * ax;
  const double c11 = at(i, j + 1, k + 1) * (1 - ax) + at(i + 1, j + 1, k + 1) * ax;
  const double c0 = c00 * (1 - ay) + c10 * ay, c1 = c01 * (1 - ay) + c11 * ay;
  return static_cast<float>(c0 * (1 - az) + c1 * az);
}

}  // namespace ctd::coarse_reference
// ---- end of the frozen copy ----

namespace ctd {
namespace {

using coarse::Bits;
using coarse::Grid;

struct Case {
  std::string name;
  Grid g;
  Bits m;
  std::vector<float> f;  // a scalar field on the same grid
};

Bits randomBits(const Grid& g, double density, std::mt19937& rng) {
  std::bernoulli_distribution on(density);
  Bits m(g.size());
  for (auto& b : m) b = on(rng) ? 1 : 0;
  return m;
}

// Random balls and shells: closed cavities, touching borders, thin walls.
Bits randomBlobs(const Grid& g, std::mt19937& rng) {
  Bits m(g.size(), 0);
  std::uniform_real_distribution<double> u(0, 1);
  const double extent = static_cast<double>(std::max({g.nx, g.ny, g.nz}));
  for (int b = 0; b < 8; ++b) {
    const double cx = u(rng) * g.nx, cy = u(rng) * g.ny, cz = u(rng) * g.nz;
    const double r = 1 + u(rng) * extent / 3, shell = u(rng) < 0.5 ? 1 + u(rng) * 2 : 1e9;
    for (std::size_t k = 0; k < g.nz; ++k)
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const double d = std::hypot(i - cx, j - cy, k - cz);
          if (d <= r && d >= r - shell) m[g.index(i, j, k)] ^= 1;
        }
  }
  return m;
}

std::vector<float> randomField(const Grid& g, std::mt19937& rng, int kind) {
  std::vector<float> f(g.size());
  std::uniform_real_distribution<float> hu(-1024.f, 3071.f), frac(0.f, 1.f), wide(-40.f, 40.f);
  for (auto& x : f) {
    switch (kind) {
      case 0: x = hu(rng); break;                                        // HU with fractions
      case 1: x = frac(rng) < 0.5f ? 0.f : 1.f; break;                   // 0/1 fractions of a mask
      case 2: x = std::ldexp(frac(rng) - 0.5f, static_cast<int>(wide(rng))); break;  // exponents far apart
      case 3: x = frac(rng) < 0.1f ? -0.0f : hu(rng) * 1e-3f; break;    // signed zeros among small values
      // Huge values of both signs among ordinary ones: the sum's rounding,
      // and so the float mean, depends on the order of the additions.
      default: x = frac(rng) < 0.3f ? (frac(rng) < 0.5f ? -0x1p60f : 0x1p60f) : hu(rng); break;
    }
  }
  return f;
}

std::vector<Case> cases() {
  std::vector<Case> out;
  std::mt19937 rng(20261129);
  const std::size_t dims[][3] = {{1, 1, 1}, {2, 1, 3}, {1, 9, 1}, {7, 5, 3}, {3, 40, 2}, {31, 17, 23},
                                 {64, 65, 33}, {16, 16, 16}, {41, 1, 37}};
  const double spacings[] = {0.7, 1.0, 2.0, 3.3};
  int n = 0;
  for (const auto& d : dims)
    for (double density : {0.05, 0.5, 0.93}) {
      Case c;
      c.g = Grid{d[0], d[1], d[2], spacings[n % 4]};
      c.m = randomBits(c.g, density, rng);
      c.f = randomField(c.g, rng, n % 5);
      c.name = "random " + std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]) +
               " density " + std::to_string(density);
      out.push_back(std::move(c));
      ++n;
    }
  for (const auto& d : dims) {
    if (d[0] * d[1] * d[2] < 100) continue;
    Case c;
    c.g = Grid{d[0], d[1], d[2], spacings[n % 4]};
    c.m = randomBlobs(c.g, rng);
    c.f = randomField(c.g, rng, n % 5);
    c.name = "blobs " + std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]);
    out.push_back(std::move(c));
    ++n;
  }
  // Phantom heads sampled with anisotropic voxels (pixels and slice steps
  // differ, one grid odd-sized and posed), their label maps taken as masks on
  // a grid of the pixel spacing: body, skull, cavity (an enclosed hole in the
  // skull), with the HU as the field.
  struct P {
    std::size_t matrix;
    double pixel, step, yaw;
  };
  for (const P p : {P{61, 4.1, 2.5, 0}, P{72, 3.3, 5.0, 20}}) {
    phantom::PhantomSpec s;
    s.matrix = p.matrix;
    s.pixel_spacing_mm = p.pixel;
    s.slice_step_mm = p.step;
    s.yaw_deg = p.yaw;
    s.pitch_deg = p.yaw / 2;
    const phantom::PhantomCase pc = phantom::makePhantom(s);
    const Grid g{pc.ct.nx, pc.ct.ny, pc.ct.nz, p.pixel};
    const char* names[] = {"body", "skull", "cavity", "air inside"};
    for (int which = 0; which < 4; ++which) {
      Case c;
      c.g = g;
      c.m.resize(g.size());
      for (std::size_t i = 0; i < g.size(); ++i) {
        const std::uint8_t l = pc.labels.data[i];
        c.m[i] = which == 0 ? phantom::isBody(l)
                 : which == 1 ? l == phantom::Skull
                 : which == 2 ? l == phantom::CranialCavity
                              : pc.ct.hu[i] < -400.f;
      }
      c.f = pc.ct.hu;
      c.name = std::string("phantom ") + std::to_string(p.matrix) + " " + names[which];
      out.push_back(std::move(c));
    }
  }
  return out;
}

const std::vector<Case>& allCases() {
  static const std::vector<Case> c = cases();
  return c;
}

::testing::AssertionResult sameBits(const Bits& want, const Bits& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "size " << got.size() << ", want " << want.size();
  for (std::size_t i = 0; i < want.size(); ++i)
    if (want[i] != got[i])
      return ::testing::AssertionFailure() << "voxel " << i << ": " << int(got[i]) << ", want " << int(want[i]);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult sameFloats(const std::vector<float>& want, const std::vector<float>& got) {
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "size " << got.size() << ", want " << want.size();
  for (std::size_t i = 0; i < want.size(); ++i)
    if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "voxel " << i << ": " << got[i] << ", want " << want[i];
  return ::testing::AssertionSuccess();
}

// Both thread counts: the primitives split slices and lines between threads.
template <class Fn>
void onOneAndTwoThreads(Fn fn) {
  for (unsigned t : {1u, 2u}) {
    t_slice_thread_budget = t;
    fn(t);
  }
  t_slice_thread_budget = 0;
}

TEST(CoarseMorphologyEquivalence, DilateErodeOpenClose) {
  onOneAndTwoThreads([](unsigned t) {
    for (const Case& c : allCases())
      for (int r : {0, 1, 2, 3, 4}) {
        if (r > 2 && t > 1) continue;  // the larger balls once (the test must stay fast under ASan)
        SCOPED_TRACE(c.name + " radius " + std::to_string(r) + " threads " + std::to_string(t));
        EXPECT_TRUE(sameBits(coarse_reference::dilate(c.m, c.g, r), coarse::dilate(c.m, c.g, r)));
        EXPECT_TRUE(sameBits(coarse_reference::erode(c.m, c.g, r), coarse::erode(c.m, c.g, r)));
        if (r <= 2) {
          EXPECT_TRUE(sameBits(coarse_reference::open(c.m, c.g, r), coarse::open(c.m, c.g, r)));
          EXPECT_TRUE(sameBits(coarse_reference::close(c.m, c.g, r), coarse::close(c.m, c.g, r)));
        }
      }
  });
}

TEST(CoarseMorphologyEquivalence, Components) {
  for (const Case& c : allCases()) {
    SCOPED_TRACE(c.name);
    const coarse::Components want = coarse_reference::components(c.m, c.g);
    const coarse::Components got = coarse::components(c.m, c.g);
    EXPECT_EQ(want.sizes, got.sizes);
    EXPECT_TRUE(want.label == got.label);
    EXPECT_TRUE(sameBits(coarse_reference::largestComponent(c.m, c.g), coarse::largestComponent(c.m, c.g)));
  }
}

TEST(CoarseMorphologyEquivalence, FillHolesPerSlice) {
  onOneAndTwoThreads([](unsigned t) {
    for (const Case& c : allCases())
      for (unsigned dim : {0u, 1u, 2u}) {
        SCOPED_TRACE(c.name + " dim " + std::to_string(dim) + " threads " + std::to_string(t));
        EXPECT_TRUE(sameBits(coarse_reference::fillHolesPerSlice(c.m, c.g, dim), coarse::fillHolesPerSlice(c.m, c.g, dim)));
      }
  });
}

TEST(CoarseMorphologyEquivalence, FillHolesTakesAnyNonZeroAsForeground) {
  for (const Case& c : allCases()) {
    Bits m = c.m;
    for (std::size_t i = 0; i < m.size(); ++i)
      if (m[i]) m[i] = static_cast<std::uint8_t>(1 + i % 255);
    for (unsigned dim : {0u, 1u, 2u}) {
      SCOPED_TRACE(c.name + " dim " + std::to_string(dim));
      EXPECT_TRUE(sameBits(coarse_reference::fillHolesPerSlice(m, c.g, dim), coarse::fillHolesPerSlice(m, c.g, dim)));
    }
  }
}

TEST(CoarseMorphologyEquivalence, SignedDistance) {
  onOneAndTwoThreads([](unsigned t) {
    for (const Case& c : allCases()) {
      SCOPED_TRACE(c.name + " threads " + std::to_string(t));
      EXPECT_TRUE(sameFloats(coarse_reference::signedDistance(c.m, c.g), coarse::signedDistance(c.m, c.g)));
      for (double spacing : {0.37, 1.7, 2.0}) {
        if (t > 1) break;
        Grid g = c.g;
        g.spacing = spacing;
        EXPECT_TRUE(sameFloats(coarse_reference::signedDistance(c.m, g), coarse::signedDistance(c.m, g))) << spacing;
      }
    }
  });
}

TEST(CoarseMorphologyEquivalence, BoxMean) {
  onOneAndTwoThreads([](unsigned t) {
    for (const Case& c : allCases())
      for (int r : {-1, 0, 1, 2, 3}) {
        if (r > 1 && t > 1) continue;
        SCOPED_TRACE(c.name + " radius " + std::to_string(r) + " threads " + std::to_string(t));
        EXPECT_TRUE(sameFloats(coarse_reference::boxMean(c.f, c.g, r), coarse::boxMean(c.f, c.g, r)));
      }
  });
}

TEST(CoarseMorphologyEquivalence, SampleField) {
  std::mt19937 rng(7);
  for (const Case& c : allCases()) {
    SCOPED_TRACE(c.name);
    if (c.g.nx < 2 || c.g.ny < 2 || c.g.nz < 2) continue;  // the sampler needs two voxels per axis
    const Vec3 origin{-12.5, 3.25, 100.0};
    std::uniform_real_distribution<double> u(-0.2, 1.2);
    for (int s = 0; s < 2000; ++s) {
      Vec3 p{origin[0] + u(rng) * (c.g.nx - 1.0) * c.g.spacing, origin[1] + u(rng) * (c.g.ny - 1.0) * c.g.spacing,
             origin[2] + u(rng) * (c.g.nz - 1.0) * c.g.spacing};
      if (s % 10 == 0) p[0] = origin[0] + (c.g.nx - 1.0) * c.g.spacing;  // on the last plane
      const float want = coarse_reference::sampleField(c.f, c.g, origin, p, -7.f);
      const float got = coarse::sampleField(c.f, c.g, origin, p, -7.f);
      ASSERT_EQ(0, std::memcmp(&want, &got, sizeof want)) << s << ": " << got << ", want " << want;
    }
  }
}

}  // namespace
}  // namespace ctd
