#include "segment/CoarseMorphology.h"

#include <itkBinaryBallStructuringElement.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// o[i] |= s[i] for a row, sixteen voxels per step (-O2 does not vectorise the byte loop).
using Bytes16 = std::uint8_t __attribute__((vector_size(16)));
void orInto(std::uint8_t* o, const std::uint8_t* s, std::size_t count) {
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    Bytes16 a, b;
    std::memcpy(&a, o + i, 16);
    std::memcpy(&b, s + i, 16);
    a |= b;
    std::memcpy(o + i, &a, 16);
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
        std::memcpy(o, src, nx);
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
  // Sixteen voxels per step, as orInto.
  const std::size_t n = m.size(), n16 = n / 16 * 16;
  const Bytes16 zero = {}, one = zero + 1;
  for (std::size_t i = 0; i < n16; i += 16) {
    Bytes16 a;
    std::memcpy(&a, &m[i], 16);
    a = reinterpret_cast<Bytes16>(a == zero) & one;
    std::memcpy(&background[i], &a, 16);
  }
  for (std::size_t i = n16; i < n; ++i) background[i] = m[i] ? 0 : 1;
  Bits out = dilateRuns(background, g, radius, 0);
  for (std::size_t i = 0; i < n16; i += 16) {
    Bytes16 a, b;
    std::memcpy(&a, &m[i], 16);
    std::memcpy(&b, &out[i], 16);
    a = reinterpret_cast<Bytes16>((a != zero) & (b == zero)) & one;
    std::memcpy(&out[i], &a, 16);
  }
  for (std::size_t i = n16; i < n; ++i) out[i] = m[i] && !out[i];
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
  Bits out(m.size());  // every voxel is written below
  forEachSlice(n[dim], na * nb, [&](std::size_t s) {
    // 0 = background not reached yet, 1 = foreground, 2 = reached from the border.
    std::vector<std::uint8_t> buf(w * h, 2);
    std::vector<std::size_t> stack;
    const std::size_t base = s * stride[dim], step = stride[ua];
    for (std::size_t b = 0; b < nb; ++b) {
      const std::uint8_t* src = &m[base + b * stride[ub]];
      std::uint8_t* dst = &buf[(b + 1) * w + 1];
      if (step == 1)
        for (std::size_t a = 0; a < na; ++a) dst[a] = src[a] != 0;
      else
        for (std::size_t a = 0; a < na; ++a) dst[a] = src[a * step] != 0;
    }
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
    // Reached from the border: background; the rest is foreground or a hole.
    for (std::size_t b = 0; b < nb; ++b) {
      const std::uint8_t* src = &buf[(b + 1) * w + 1];
      std::uint8_t* dst = &out[base + b * stride[ub]];
      if (step == 1)
        for (std::size_t a = 0; a < na; ++a) dst[a] = src[a] != 2;
      else
        for (std::size_t a = 0; a < na; ++a) dst[a * step] = src[a] != 2;
    }
  });
  return out;
}

std::vector<float> signedDistance(const Bits& m, const Grid& g) {
  // itk::SignedMaurerDistanceMapImageFilter (image spacing, not squared,
  // inside negative) ported step for step, so that its float results are
  // reproduced bit for bit (its float arithmetic rounds, an exact transform
  // would differ in rare voxels), without its pipeline overhead and with
  // every pass shared by two threads.
  const std::size_t nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny, n = g.size();
  const std::size_t size[3] = {nx, ny, nz}, stride[3] = {1, nx, plane};
  constexpr float kFar = std::numeric_limits<float>::max();
  std::vector<float> out(n);
  if (n == 0) return out;
  // Sites: the object's contour, i.e. object voxels with a background voxel
  // among their 26 neighbours inside the grid (ITK's fully connected
  // BinaryContourImageFilter): object AND NOT its 3x3x3 erosion, with voxels
  // beyond the grid counted as object. The erosion is separable: along x
  // within rows, then y within slices (both per slice), then z.
  Bits ex(n), exy(n);
  forEachSlice(nz, plane, [&](std::size_t k) {
    const std::uint8_t* src = &m[k * plane];
    std::uint8_t* e = &ex[k * plane];
    for (std::size_t j = 0; j < ny; ++j, src += nx, e += nx)
      for (std::size_t i = 0; i < nx; ++i)
        e[i] = src[i] && (i == 0 || src[i - 1]) && (i + 1 == nx || src[i + 1]);
    const std::uint8_t* a = &ex[k * plane];
    std::uint8_t* o = &exy[k * plane];
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        const std::size_t q = j * nx + i;
        o[q] = a[q] && (j == 0 || a[q - nx]) && (j + 1 == ny || a[q + nx]);
      }
  });
  forEachSlice(nz, plane, [&](std::size_t k) {
    const std::uint8_t* a = &exy[k * plane];
    const std::uint8_t* below = k > 0 ? a - plane : nullptr;
    const std::uint8_t* above = k + 1 < nz ? a + plane : nullptr;
    const std::uint8_t* src = &m[k * plane];
    float* o = &out[k * plane];
    for (std::size_t q = 0; q < plane; ++q) {
      const bool inner = a[q] && (!below || below[q]) && (!above || above[q]);
      o[q] = src[q] && !inner ? 0.0f : kFar;
    }
  });
  Bits().swap(ex);
  Bits().swap(exy);
  const float spacing = static_cast<float>(g.spacing);
  // Maurer's Remove: whether the middle parabola is hidden by its neighbours.
  auto hidden = [](float d1, float d2, float df, float x1, float x2, float xf) {
    const float a = x2 - x1, b = xf - x2, c = xf - x1;
    const float value = (c * std::abs(d2) - b * std::abs(d1) - a * std::abs(df) - a * b * c);
    return value > 0;
  };
  // The two position tables ITK computes per voxel (one in float, one through double).
  const std::size_t longest = std::max({nx, ny, nz});
  std::vector<float> pos_f(longest), pos_d(longest);
  for (std::size_t i = 0; i < longest; ++i) {
    pos_f[i] = static_cast<float>(i) * spacing;
    pos_d[i] = static_cast<float>(static_cast<double>(i) * g.spacing);
  }
  for (unsigned d = 0; d < 3; ++d) {
    const std::size_t nd = size[d], st = stride[d];
    // The two other axes; lines are handed out by the outer one.
    const unsigned e1 = d == 0 ? 1 : 0, e2 = d == 2 ? 1 : 2;
    forEachSlice(size[e2], size[e1] * nd, [&](std::size_t o2) {
      std::vector<float> gv(nd), hv(nd), line(nd);
      for (std::size_t o1 = 0; o1 < size[e1]; ++o1) {
        float* at = &out[o2 * stride[e2] + o1 * stride[e1]];
        // The line copied out of the volume (strided along y and z) and back.
        if (st == 1)
          std::memcpy(line.data(), at, nd * sizeof(float));
        else
          for (std::size_t i = 0; i < nd; ++i) line[i] = at[i * st];
        int l = -1;
        for (std::size_t i = 0; i < nd; ++i) {
          const float di = line[i];
          if (di == kFar) continue;
          const float iw = pos_f[i];
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
          const float iw = pos_d[i];
          float d1 = std::abs(gv[l]) + (hv[l] - iw) * (hv[l] - iw);
          while (l < ns) {
            const float d2 = std::abs(gv[l + 1]) + (hv[l + 1] - iw) * (hv[l + 1] - iw);
            if (d1 <= d2) break;
            ++l;
            d1 = d2;
          }
          line[i] = d1;
        }
        if (st == 1)
          std::memcpy(at, line.data(), nd * sizeof(float));
        else
          for (std::size_t i = 0; i < nd; ++i) at[i * st] = line[i];
      }
    });
  }
  forEachSlice(nz, plane, [&](std::size_t k) {
    for (std::size_t idx = k * plane; idx < (k + 1) * plane; ++idx) {
      const auto v = static_cast<float>(std::sqrt(static_cast<double>(std::abs(out[idx]))));
      out[idx] = m[idx] ? 0.0f - v : v;  // +0 on the contour, as ITK gives
    }
  });
  return out;
}

std::vector<float> boxMean(const std::vector<float>& v, const Grid& g, int radius) {
  // The sum of itk::MeanImageFilter: edge voxels repeated beyond the grid
  // (zero-flux Neumann), neighbours added one by one in ITK's order (x
  // fastest, then y, then z) in double from 0 and divided by the
  // neighbourhood size, so the values match it bit for bit (thresholds
  // downstream must not move). Double addition does not associate, so the
  // order cannot change; the speed comes from adding for eight voxels of a
  // row at once in SSE2 registers (each lane still adds its own voxel's
  // neighbours in ITK's order) instead of through a sum array in memory.
  const std::size_t r = static_cast<std::size_t>(std::max(radius, 0));
  const std::size_t nx = g.nx, ny = g.ny, nz = g.nz, plane = nx * ny;
  const std::size_t w = 2 * r + 1;
  const double count = static_cast<double>(w * w * w);
  auto clampedIndex = [](std::size_t p, std::size_t d, std::size_t r, std::size_t n) {
    // p + d - r clamped to [0, n - 1]
    return p + d < r ? 0 : std::min(p + d - r, n - 1);
  };
  std::vector<float> out(v.size());
  // Interior of a row: voxels whose whole x-run lies inside it.
  const std::size_t lo = nx > 2 * r ? r : nx, hi = nx > 2 * r ? nx - r : nx;
  forEachSlice(nz, plane * w * w * w / 8, [&](std::size_t k) {
    std::vector<const float*> rows(w * w);
    for (std::size_t j = 0; j < ny; ++j) {
      // The w x w rows of the neighbourhood in ITK's order (z outer, y inner).
      for (std::size_t c = 0; c < w; ++c)
        for (std::size_t b = 0; b < w; ++b)
          rows[c * w + b] = &v[clampedIndex(k, c, r, nz) * plane + clampedIndex(j, b, r, ny) * nx];
      float* o = &out[k * plane + j * nx];
      auto edge = [&](std::size_t i) {
        double sum = 0.0;
        for (const float* row : rows)
          for (std::size_t a = 0; a < w; ++a) sum += static_cast<double>(row[clampedIndex(i, a, r, nx)]);
        o[i] = static_cast<float>(sum / count);
      };
      for (std::size_t i = 0; i < lo; ++i) edge(i);
      std::size_t i = lo;
#if defined(__SSE2__)
      for (; i + 8 <= hi; i += 8) {
        __m128d s0 = _mm_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
        for (const float* row : rows) {
          const float* p = row + i - r;
          for (std::size_t a = 0; a < w; ++a, ++p) {
            const __m128 x0 = _mm_loadu_ps(p), x1 = _mm_loadu_ps(p + 4);
            s0 = _mm_add_pd(s0, _mm_cvtps_pd(x0));
            s1 = _mm_add_pd(s1, _mm_cvtps_pd(_mm_movehl_ps(x0, x0)));
            s2 = _mm_add_pd(s2, _mm_cvtps_pd(x1));
            s3 = _mm_add_pd(s3, _mm_cvtps_pd(_mm_movehl_ps(x1, x1)));
          }
        }
        const __m128d c = _mm_set1_pd(count);
        _mm_storeu_ps(o + i, _mm_movelh_ps(_mm_cvtpd_ps(_mm_div_pd(s0, c)), _mm_cvtpd_ps(_mm_div_pd(s1, c))));
        _mm_storeu_ps(o + i + 4, _mm_movelh_ps(_mm_cvtpd_ps(_mm_div_pd(s2, c)), _mm_cvtpd_ps(_mm_div_pd(s3, c))));
      }
#endif
      for (; i < hi; ++i) {
        double sum = 0.0;
        for (const float* row : rows)
          for (std::size_t a = 0; a < w; ++a) sum += static_cast<double>(row[i - r + a]);
        o[i] = static_cast<float>(sum / count);
      }
      for (i = std::max(hi, lo); i < nx; ++i) edge(i);
    }
  });
  return out;
}

CellLevels classifyCells(const std::vector<float>& f, const Grid& g, float level) {
  CellLevels c{Grid{g.nx - 1, g.ny - 1, g.nz - 1, g.spacing}, {}};
  c.kind.resize(c.cells.size());
  const std::size_t dy = g.nx, dz = g.nx * g.ny;
  for (std::size_t k = 0; k < c.cells.nz; ++k)
    for (std::size_t j = 0; j < c.cells.ny; ++j)
      for (std::size_t i = 0; i < c.cells.nx; ++i) {
        const float* p = f.data() + g.index(i, j, k);
        const float corners[8] = {p[0], p[1], p[dy], p[dy + 1], p[dz], p[dz + 1], p[dz + dy], p[dz + dy + 1]};
        const auto [mn, mx] = std::minmax_element(corners, corners + 8);
        c.kind[c.cells.index(i, j, k)] = *mn >= level ? 1 : *mx < level ? 0 : 2;
      }
  return c;
}

}  // namespace ctd::coarse
