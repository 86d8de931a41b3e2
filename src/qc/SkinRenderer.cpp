#include "qc/SkinRenderer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "segment/CoarseMorphology.h"
#include "volume/SliceThreads.h"

namespace ctd::qc {

const char* toString(View v) {
  switch (v) {
    case View::Front: return "front";
    case View::LeftOblique: return "left-oblique";
    case View::RightOblique: return "right-oblique";
    case View::Left: return "left";
    case View::Right: return "right";
  }
  return "?";
}

const std::vector<View>& allViews() {
  static const std::vector<View> v{View::Right, View::RightOblique, View::Front, View::LeftOblique, View::Left};
  return v;
}

namespace {

// Direction from the patient towards the viewer (LPS: anterior -Y, left +X).
Vec3 towardsViewer(View v) {
  const double h = std::sqrt(0.5);
  switch (v) {
    case View::Front: return {0, -1, 0};
    case View::LeftOblique: return {h, -h, 0};
    case View::RightOblique: return {-h, -h, 0};
    case View::Left: return {1, 0, 0};
    case View::Right: return {-1, 0, 0};
  }
  return {0, -1, 0};
}

// Trilinear sample in grid index space; outside -> -1000.
struct Field {
  const SkinGrid& g;
  const std::vector<float>& f;
  float at(long i, long j, long k) const {
    if (i < 0 || j < 0 || k < 0 || i >= static_cast<long>(g.nx) || j >= static_cast<long>(g.ny) ||
        k >= static_cast<long>(g.nz))
      return -1000.0f;
    return f[g.index(static_cast<std::size_t>(i), static_cast<std::size_t>(j), static_cast<std::size_t>(k))];
  }
  float sample(double x, double y, double z) const {
    const double fx = std::floor(x), fy = std::floor(y), fz = std::floor(z);
    const long i = static_cast<long>(fx), j = static_cast<long>(fy), k = static_cast<long>(fz);
    const double a = x - fx, b = y - fy, c = z - fz;
    float v000, v100, v010, v110, v001, v101, v011, v111;
    if (i >= 0 && j >= 0 && k >= 0 && i + 1 < static_cast<long>(g.nx) && j + 1 < static_cast<long>(g.ny) &&
        k + 1 < static_cast<long>(g.nz)) {
      // All eight corners inside: read them without a bounds test each.
      const std::size_t sy = g.nx, sz = g.nx * g.ny;
      const float* p = f.data() + g.index(static_cast<std::size_t>(i), static_cast<std::size_t>(j),
                                          static_cast<std::size_t>(k));
      v000 = p[0], v100 = p[1], v010 = p[sy], v110 = p[sy + 1];
      v001 = p[sz], v101 = p[sz + 1], v011 = p[sz + sy], v111 = p[sz + sy + 1];
    } else {
      v000 = at(i, j, k), v100 = at(i + 1, j, k), v010 = at(i, j + 1, k), v110 = at(i + 1, j + 1, k);
      v001 = at(i, j, k + 1), v101 = at(i + 1, j, k + 1), v011 = at(i, j + 1, k + 1), v111 = at(i + 1, j + 1, k + 1);
    }
    const double c00 = v000 + a * (v100 - v000);
    const double c10 = v010 + a * (v110 - v010);
    const double c01 = v001 + a * (v101 - v001);
    const double c11 = v011 + a * (v111 - v011);
    const double c0 = c00 + b * (c10 - c00), c1 = c01 + b * (c11 - c01);
    return static_cast<float>(c0 + c * (c1 - c0));
  }
};

// std::lround (halves away from zero) without the library call it costs per
// ray step: x - trunc(x) is exact for |x| < 2^52, so the result is the same.
inline long roundHalfAway(double x) {
  const long t = static_cast<long>(x);
  const double frac = x - static_cast<double>(t);
  return frac >= 0.5 ? t + 1 : (frac <= -0.5 ? t - 1 : t);
}

// Lambert for the form from the key light, a little Blinn-Phong for the sheen
// that makes a nose tip and closed lids read, and a depth cue so that the eye
// sockets sit darker than the brow and cheeks around them.
std::uint8_t shade(double diffuse, double half_cos, double depth_mm) {
  const double specular = std::pow(half_cos, 24.0);
  const double cue = 1.0 - 0.45 * std::clamp(depth_mm / 90.0, 0.0, 1.0);
  const double v = (0.10 + 0.72 * diffuse + 0.18 * specular) * cue;
  return static_cast<std::uint8_t>(std::clamp(std::lround(255.0 * v), 16L, 255L));
}

// Separable binomial blur [1 4 6 4 1]/16 along each axis: thick slices
// resampled linearly leave terraces that the gradient normals would light up.
// Only inside the box [lo, hi] (the body's): outside it the field is air anyway.
void smooth(std::vector<float>& f, const SkinGrid& g, const std::size_t lo[3], const std::size_t hi[3]) {
  const std::size_t stride[3] = {1, g.nx, g.nx * g.ny};
  for (int axis = 0; axis < 3; ++axis) {
    const std::size_t len = hi[axis] - lo[axis] + 1, st = stride[axis];
    if (len < 5) continue;
    const int a1 = (axis + 1) % 3, a2 = (axis + 2) % 3;
    const std::size_t n1 = hi[a1] - lo[a1] + 1, n2 = hi[a2] - lo[a2] + 1;
    forEachSlice(n1 * n2, len, [&](std::size_t line) {
      const std::size_t u = lo[a1] + line % n1, v = lo[a2] + line / n1;
      const std::size_t base = u * stride[a1] + v * stride[a2] + lo[axis] * st;
      std::vector<float> in(len);
      for (std::size_t t = 0; t < len; ++t) in[t] = f[base + t * st];
      for (std::size_t t = 0; t < len; ++t) {
        auto at = [&](long q) { return in[static_cast<std::size_t>(std::clamp(q, 0L, static_cast<long>(len) - 1))]; };
        const long q = static_cast<long>(t);
        f[base + t * st] = (at(q - 2) + 4 * at(q - 1) + 6 * at(q) + 4 * at(q + 1) + at(q + 2)) / 16.0f;
      }
    });
  }
}

constexpr std::size_t kBlock = 4;

}  // namespace

BodyRegion SkinRenderer::body(const SkinGrid& g, const std::vector<float>& values) const {
  BodyRegion r;
  r.lo[0] = 1, r.hi[0] = 0;
  if (g.empty()) return r;
  const coarse::Grid cg{g.nx, g.ny, g.nz, g.spacing};
  coarse::Bits above(values.size());
  for (std::size_t x = 0; x < above.size(); ++x) above[x] = values[x] >= opt_.iso_hu;
  // Opened first, so that thin shells touching the head (head holder, cushions,
  // couch pads) fall off before the largest component is taken; then grown back
  // by the opening plus two voxels of margin that keep the whole iso crossing inside.
  r.inside = coarse::dilate(coarse::largestComponent(coarse::erode(above, cg, 2), cg), cg, 4);
  r.lo[0] = g.nx, r.lo[1] = g.ny, r.lo[2] = g.nz;
  r.bx = (g.nx + kBlock - 1) / kBlock, r.by = (g.ny + kBlock - 1) / kBlock, r.bz = (g.nz + kBlock - 1) / kBlock;
  r.skip.assign(r.bx * r.by * r.bz, 255);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        if (!r.inside[g.index(i, j, k)]) continue;
        r.lo[0] = std::min(r.lo[0], i), r.lo[1] = std::min(r.lo[1], j), r.lo[2] = std::min(r.lo[2], k);
        r.hi[0] = std::max(r.hi[0], i), r.hi[1] = std::max(r.hi[1], j), r.hi[2] = std::max(r.hi[2], k);
        r.skip[((k / kBlock) * r.by + j / kBlock) * r.bx + i / kBlock] = 0;
      }
  // Empty-space skipping: Chebyshev distance in blocks to the nearest body block
  // (grown one ring per pass, capped), so rays cross the air in long strides.
  for (std::uint8_t level = 1; level < 16; ++level) {
    const std::vector<std::uint8_t> prev = r.skip;
    for (std::size_t k = 0; k < r.bz; ++k)
      for (std::size_t j = 0; j < r.by; ++j)
        for (std::size_t i = 0; i < r.bx; ++i) {
          std::uint8_t& v = r.skip[(k * r.by + j) * r.bx + i];
          if (v != 255) continue;
          bool near = false;
          for (std::size_t c = k ? k - 1 : 0; c <= std::min(k + 1, r.bz - 1) && !near; ++c)
            for (std::size_t b = j ? j - 1 : 0; b <= std::min(j + 1, r.by - 1) && !near; ++b)
              for (std::size_t a = i ? i - 1 : 0; a <= std::min(i + 1, r.bx - 1) && !near; ++a)
                near = prev[(c * r.by + b) * r.bx + a] == level - 1;
          if (near) v = level;
        }
  }
  return r;
}

namespace {

// What one view's rays found, per pixel: enough to shade it, and whether the
// ray read the field in a block near the face mask (then defacing may change it).
struct ViewRays {
  int W = 0, H = 0;
  std::vector<double> depth;
  std::vector<float> lambert, sheen;
  std::vector<std::uint8_t> near_mask;
};

// The renderer's field: `value(x)` inside the body, air outside, smoothed.
template <class Value>
std::vector<float> bodyField(const SkinGrid& g, const BodyRegion& region, Value value) {
  std::vector<float> field(g.hu.size());
  forEachSlice(g.nz, g.nx * g.ny, [&](std::size_t k) {
    for (std::size_t x = k * g.nx * g.ny; x < (k + 1) * g.nx * g.ny; ++x)
      field[x] = region.inside[x] ? value(x) : -1000.0f;
  });
  smooth(field, g, region.lo, region.hi);
  return field;
}

// Blocks (of the skip grid) within two blocks (8 voxels) of a voxel with face
// mask: a ray's samples at a step read the smoothed field within ~6 voxels of
// the step's voxel (trilinear corners, bisection inside one step, gradient +-1,
// the 5-tap blur +-2), so a ray that never steps into one of these blocks
// reads the same values before and after defacing.
std::vector<std::uint8_t> maskBlocks(const SkinGrid& g, const BodyRegion& r) {
  std::vector<std::uint8_t> hit(r.bx * r.by * r.bz, 0), out(hit.size(), 0);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j) {
      const float* m = g.mask.data() + g.index(0, j, k);
      for (std::size_t i = 0; i < g.nx; ++i)
        if (m[i] != 0.0f) hit[((k / kBlock) * r.by + j / kBlock) * r.bx + i / kBlock] = 1;
    }
  const auto grow = [](std::size_t v, std::size_t n, std::size_t& lo, std::size_t& hi) {
    lo = v >= 2 ? v - 2 : 0, hi = std::min(v + 2, n - 1);
  };
  for (std::size_t k = 0; k < r.bz; ++k)
    for (std::size_t j = 0; j < r.by; ++j)
      for (std::size_t i = 0; i < r.bx; ++i) {
        if (!hit[(k * r.by + j) * r.bx + i]) continue;
        std::size_t k0, k1, j0, j1, i0, i1;
        grow(k, r.bz, k0, k1), grow(j, r.by, j0, j1), grow(i, r.bx, i0, i1);
        for (std::size_t c = k0; c <= k1; ++c)
          for (std::size_t b = j0; b <= j1; ++b)
            for (std::size_t a = i0; a <= i1; ++a) out[(c * r.by + b) * r.bx + a] = 1;
      }
  return out;
}

}  // namespace

// Casts one view's rays through `field`. With `near_blocks`, records per pixel
// whether its ray stepped into one of them; with `reuse` (the same view cast
// before on a field that differs only inside those blocks), only the pixels
// whose ray did are cast again, the others are taken from `reuse`.
static ViewRays castView(const RenderOptions& opt, const SkinGrid& g, const std::vector<float>& field,
                         const BodyRegion& region, View view, const std::vector<std::uint8_t>* near_blocks,
                         const ViewRays* reuse) {
  const auto& body = region.inside;
  const auto& lo = region.lo;
  const auto& hi = region.hi;
  const Field F{g, field};
  auto blockOf = [&](long i, long j, long k) {
    return ((static_cast<std::size_t>(k) / kBlock) * region.by + static_cast<std::size_t>(j) / kBlock) * region.bx +
           static_cast<std::size_t>(i) / kBlock;
  };
  // Voxels that can be skipped safely from a point in block (i, j, k).
  auto skipVoxels = [&](long i, long j, long k) {
    const std::uint8_t v = region.skip[blockOf(i, j, k)];
    return v <= 1 ? 0.0 : static_cast<double>((v - 1) * kBlock);
  };
  const float iso = opt.iso_hu;
  const double sp = g.spacing, px = opt.pixel_mm, step = 0.5 * sp;

  const Vec3 to_viewer = towardsViewer(view);
  const Vec3 d = -1.0 * to_viewer;
  const Vec3 up{0, 0, 1};
  const Vec3 right = cross(d, up);
  double umin = 1e30, umax = -1e30, vmin = 1e30, vmax = -1e30, tmin = 1e30, tmax = -1e30;
  for (int c = 0; c < 8; ++c) {
    const Vec3 p = g.world(static_cast<double>((c & 1) ? hi[0] : lo[0]), static_cast<double>((c & 2) ? hi[1] : lo[1]),
                           static_cast<double>((c & 4) ? hi[2] : lo[2]));
    umin = std::min(umin, dot(p, right)), umax = std::max(umax, dot(p, right));
    vmin = std::min(vmin, dot(p, up)), vmax = std::max(vmax, dot(p, up));
    tmin = std::min(tmin, dot(p, d)), tmax = std::max(tmax, dot(p, d));
  }
  const double margin = 4 * px;
  umin -= margin, umax += margin, vmin -= margin, vmax += margin, tmin -= sp, tmax += sp;
  ViewRays out;
  const int W = out.W = static_cast<int>(std::ceil((umax - umin) / px)) + 1;
  const int H = out.H = static_cast<int>(std::ceil((vmax - vmin) / px)) + 1;
  const auto steps = static_cast<long>(std::ceil((tmax - tmin) / step));
  const std::size_t n_pix = static_cast<std::size_t>(W) * static_cast<std::size_t>(H);
  if (reuse && (reuse->W != W || reuse->H != H)) reuse = nullptr;
  out.depth.assign(n_pix, -1e30);
  out.lambert.assign(n_pix, 0);
  out.sheen.assign(n_pix, 0);
  if (near_blocks) out.near_mask.assign(n_pix, 0);
  const double elev = opt.light_elevation_deg * std::acos(-1.0) / 180.0;
  // At 0 degrees exactly the light at the viewer (no rounding of the normalisations).
  const Vec3 light = elev == 0 ? to_viewer : normalized(std::cos(elev) * to_viewer + std::sin(elev) * up);
  const Vec3 halfway = elev == 0 ? to_viewer : normalized(light + to_viewer);
  auto toIndex = [&](const Vec3& p) { return (1.0 / sp) * (p - g.origin); };
  const Vec3 dq = (step / sp) * d;

  forEachSlice(static_cast<std::size_t>(H), static_cast<std::size_t>(W) * 64, [&](std::size_t r) {
    const double vv = vmax - static_cast<double>(r) * px;
    for (int c = 0; c < W; ++c) {
      const std::size_t pix = r * static_cast<std::size_t>(W) + static_cast<std::size_t>(c);
      if (reuse && !reuse->near_mask[pix]) {
        out.depth[pix] = reuse->depth[pix], out.lambert[pix] = reuse->lambert[pix], out.sheen[pix] = reuse->sheen[pix];
        continue;
      }
      const double u = umin + c * px;
      Vec3 q = toIndex(u * right + vv * up + tmin * d);
      Vec3 prev = q;
      for (long s = 0; s <= steps; ++s, prev = q, q = q + dq) {
        const long i = roundHalfAway(q[0]), j = roundHalfAway(q[1]), k = roundHalfAway(q[2]);
        if (i < 0 || j < 0 || k < 0 || i >= static_cast<long>(g.nx) || j >= static_cast<long>(g.ny) ||
            k >= static_cast<long>(g.nz))
          continue;
        if (!body[g.index(static_cast<std::size_t>(i), static_cast<std::size_t>(j), static_cast<std::size_t>(k))]) {
          const double jump = skipVoxels(i, j, k) / (step / sp);
          if (jump >= 2) {
            const auto n = static_cast<long>(jump) - 1;
            q = q + static_cast<double>(n) * dq;
            s += n;
          }
          continue;
        }
        if (near_blocks && (*near_blocks)[blockOf(i, j, k)]) out.near_mask[pix] = 1;
        if (F.sample(q[0], q[1], q[2]) < iso) continue;
        // Bisect between the last sample outside and this one.
        Vec3 a = prev, b = q;
        for (int it = 0; it < 5; ++it) {
          const Vec3 m = 0.5 * (a + b);
          (F.sample(m[0], m[1], m[2]) >= iso ? b : a) = m;
        }
        const Vec3 h = b;
        const Vec3 grad{F.sample(h[0] + 1, h[1], h[2]) - F.sample(h[0] - 1, h[1], h[2]),
                        F.sample(h[0], h[1] + 1, h[2]) - F.sample(h[0], h[1] - 1, h[2]),
                        F.sample(h[0], h[1], h[2] + 1) - F.sample(h[0], h[1], h[2] - 1)};
        out.depth[pix] = dot(h, d) * sp;
        const Vec3 n = normalized(-1.0 * grad);
        double lit = std::max(0.0, dot(n, light));
        if (lit > 0 && opt.shadow_mm > 0) {
          // March towards the light from just outside the surface; skin in the
          // way leaves only a little of the light.
          const Vec3 ls = 0.5 * light;  // half a voxel per step, in index units
          Vec3 p = h + 1.5 * n;
          const auto n_steps = static_cast<long>(opt.shadow_mm / (0.5 * sp));
          for (long t = 0; t < n_steps; ++t, p = p + ls)
            if (F.sample(p[0], p[1], p[2]) >= iso) {
              lit *= 0.2;
              break;
            }
        }
        out.lambert[pix] = static_cast<float>(lit);
        out.sheen[pix] = static_cast<float>(std::max(0.0, dot(n, halfway)));
        break;
      }
    }
  });
  return out;
}

namespace {

cv::Mat shadeRays(const ViewRays& rays) {
  cv::Mat img(rays.H, rays.W, CV_8UC1, cv::Scalar(0));
  double nearest = 1e30;
  for (double z : rays.depth)
    if (z > -1e29) nearest = std::min(nearest, z);
  for (int r = 0; r < rays.H; ++r)
    for (int c = 0; c < rays.W; ++c) {
      const std::size_t pix = static_cast<std::size_t>(r) * static_cast<std::size_t>(rays.W) + static_cast<std::size_t>(c);
      if (rays.depth[pix] > -1e29)
        img.at<std::uint8_t>(r, c) = shade(rays.lambert[pix], rays.sheen[pix], rays.depth[pix] - nearest);
    }
  return img;
}

std::vector<SkinImage> blankViews(const std::vector<View>& views) {
  std::vector<SkinImage> out;
  for (View v : views) out.push_back({v, cv::Mat(64, 64, CV_8UC1, cv::Scalar(0))});
  return out;
}

}  // namespace

std::vector<SkinImage> SkinRenderer::render(const SkinGrid& g, const std::vector<float>& values,
                                            const BodyRegion& region, const std::vector<View>& views) const {
  // No body at all: blank images keep the gallery's layout.
  if (g.empty() || region.empty()) return blankViews(views);
  const std::vector<float> field = bodyField(g, region, [&](std::size_t x) { return values[x]; });
  std::vector<SkinImage> out;
  for (View view : views) out.push_back({view, shadeRays(castView(opt_, g, field, region, view, nullptr, nullptr))});
  return out;
}

BeforeAfterRenders SkinRenderer::renderBeforeAfter(const SkinGrid& g, double fill_hu, const BodyRegion& region,
                                                   const std::vector<View>& views) const {
  BeforeAfterRenders out;
  if (g.empty() || region.empty()) {
    out.before = out.after = blankViews(views);
    return out;
  }
  // Cast shadows read the field far from the rays' own steps: no reuse then.
  const bool reusable = opt_.shadow_mm <= 0;
  const std::vector<std::uint8_t> near_blocks = reusable ? maskBlocks(g, region) : std::vector<std::uint8_t>{};
  std::vector<ViewRays> rays;
  {
    const std::vector<float> field = bodyField(g, region, [&](std::size_t x) { return g.hu[x]; });
    for (View view : views) {
      rays.push_back(castView(opt_, g, field, region, view, reusable ? &near_blocks : nullptr, nullptr));
      out.before.push_back({view, shadeRays(rays.back())});
    }
  }
  // The same values as SkinGrid::defacedValues, computed into the field directly
  // (no second grid-sized copy while the first field is gone).
  const float fill = static_cast<float>(fill_hu);
  const std::vector<float> field =
      bodyField(g, region, [&](std::size_t x) { return g.hu[x] + g.mask[x] * (fill - g.hu[x]); });
  for (std::size_t v = 0; v < views.size(); ++v)
    out.after.push_back(
        {views[v], shadeRays(castView(opt_, g, field, region, views[v], nullptr, reusable ? &rays[v] : nullptr))});
  return out;
}

}  // namespace ctd::qc

namespace ctd::qc {

cv::Mat sideBySide(const std::vector<SkinImage>& images) {
  int w = 0, h = 0;
  for (const auto& s : images) w += s.image.cols, h = std::max(h, s.image.rows);
  cv::Mat out(std::max(h, 1), std::max(w, 1), CV_8UC1, cv::Scalar(0));
  int x = 0;
  for (const auto& s : images) {
    s.image.copyTo(out(cv::Rect(x, (h - s.image.rows) / 2, s.image.cols, s.image.rows)));
    x += s.image.cols;
  }
  return out;
}

}  // namespace ctd::qc
