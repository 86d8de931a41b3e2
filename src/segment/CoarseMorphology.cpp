#include "segment/CoarseMorphology.h"

#include <itkBinaryBallStructuringElement.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "volume/SliceThreads.h"

namespace ctd::coarse {
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

Bits open(const Bits& m, const Grid& g, int radius) { return dilate(erode(m, g, radius), g, radius); }
Bits close(const Bits& m, const Grid& g, int radius) { return erode(dilate(m, g, radius), g, radius); }

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
  const Components c = components(m, g);
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

}  // namespace ctd::coarse
