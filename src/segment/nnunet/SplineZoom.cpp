#include "segment/nnunet/SplineZoom.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"

namespace ctd::nnunet {
namespace {

constexpr std::int64_t kPad = 12;  // scipy's _prepad_for_spline_filter for mode 'nearest'

// Strides of a row-major 3-axis shape.
Shape3 strides(const Shape3& s) { return {s[1] * s[2], s[2], 1}; }

// Cubic B-spline prefilter of one line (Unser's recursive filter, scipy's mirror initialisation;
// the 12 edge values padded on each side make the boundary choice irrelevant, as in scipy).
void cubicPrefilter(double* c, std::int64_t n) {
  if (n < 2) return;
  const double z = std::sqrt(3.0) - 2.0;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (std::int64_t i = 0; i < n; ++i) c[i] *= gain;
  const double zn1 = std::pow(z, static_cast<double>(n - 1));
  double zi = z;
  c[0] = c[0] + zn1 * c[n - 1];
  for (std::int64_t i = 1; i < n - 1; ++i) {
    c[0] += zi * (c[i] + zn1 * c[n - 1 - i]);
    zi *= z;
  }
  c[0] /= 1.0 - zn1 * zn1;
  for (std::int64_t i = 1; i < n; ++i) c[i] += z * c[i - 1];
  c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
  for (std::int64_t i = n - 2; i >= 0; --i) c[i] = z * (c[i + 1] - c[i]);
}

// Applies `fn(line pointer, stride, length)` to every line of `a` along `axis`, gathering the
// line into a contiguous buffer.
template <class Fn>
void forEachLine(std::vector<double>& a, const Shape3& s, int axis, Fn fn) {
  const Shape3 st = strides(s);
  const std::int64_t n = s[axis];
  std::vector<double> line(static_cast<std::size_t>(n));
  const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;
  for (std::int64_t i = 0; i < s[a1]; ++i)
    for (std::int64_t j = 0; j < s[a2]; ++j) {
      double* base = a.data() + i * st[a1] + j * st[a2];
      for (std::int64_t k = 0; k < n; ++k) line[static_cast<std::size_t>(k)] = base[k * st[axis]];
      fn(line.data(), n);
      for (std::int64_t k = 0; k < n; ++k) base[k * st[axis]] = line[static_cast<std::size_t>(k)];
    }
}

// Resamples `a` (shape s) along `axis` to `out_n` samples at source coordinates
// (o + 0.5) * n / out_n - 0.5 + offset, with B-spline weights of `order` and edge clamping.
std::vector<double> interpolateAxis(const std::vector<double>& a, const Shape3& s, int axis, std::int64_t out_n,
                                    double scale, double offset, int order) {
  Shape3 os = s;
  os[axis] = out_n;
  std::vector<double> out(ImageGrid::voxels(os));
  const Shape3 ist = strides(s), ost = strides(os);
  const std::int64_t n = s[axis];
  struct Tap {
    std::int64_t idx[4];
    double w[4];
    int count;
  };
  std::vector<Tap> taps(static_cast<std::size_t>(out_n));
  for (std::int64_t o = 0; o < out_n; ++o) {
    const double x = (static_cast<double>(o) + 0.5) * scale - 0.5 + offset;
    Tap t{};
    auto clampIdx = [n](std::int64_t i) { return std::clamp<std::int64_t>(i, 0, n - 1); };
    if (order == 0) {
      t.count = 1;
      t.idx[0] = clampIdx(static_cast<std::int64_t>(std::floor(x + 0.5)));
      t.w[0] = 1.0;
    } else if (order == 1) {
      const double f = std::floor(x), u = x - f;
      t.count = 2;
      t.idx[0] = clampIdx(static_cast<std::int64_t>(f));
      t.idx[1] = clampIdx(static_cast<std::int64_t>(f) + 1);
      t.w[0] = 1.0 - u;
      t.w[1] = u;
    } else {
      const double f = std::floor(x), u = x - f;
      t.count = 4;
      for (int k = 0; k < 4; ++k) t.idx[k] = clampIdx(static_cast<std::int64_t>(f) - 1 + k);
      const double v = 1.0 - u;
      t.w[0] = v * v * v / 6.0;
      t.w[1] = (4.0 - 6.0 * u * u + 3.0 * u * u * u) / 6.0;
      t.w[2] = (1.0 + 3.0 * u + 3.0 * u * u - 3.0 * u * u * u) / 6.0;
      t.w[3] = u * u * u / 6.0;
    }
    taps[static_cast<std::size_t>(o)] = t;
  }
  const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;
  for (std::int64_t i = 0; i < s[a1]; ++i)
    for (std::int64_t j = 0; j < s[a2]; ++j) {
      const double* src = a.data() + i * ist[a1] + j * ist[a2];
      double* dst = out.data() + i * ost[a1] + j * ost[a2];
      for (std::int64_t o = 0; o < out_n; ++o) {
        const Tap& t = taps[static_cast<std::size_t>(o)];
        double acc = 0;
        for (int k = 0; k < t.count; ++k) acc += t.w[k] * src[t.idx[k] * ist[axis]];
        dst[o * ost[axis]] = acc;
      }
    }
  return out;
}

}  // namespace

std::vector<double> splineResize(const std::vector<double>& in, const Shape3& in_shape, const Shape3& out_shape,
                                 int order) {
  if (order != 0 && order != 1 && order != 3)
    throw Error("resampling order " + std::to_string(order) + " is not supported (0, 1 or 3)");
  if (in.empty()) return {};
  const auto [lo, hi] = std::minmax_element(in.begin(), in.end());
  const double vmin = *lo, vmax = *hi;
  std::vector<double> cur = in;
  Shape3 s = in_shape;
  double offset = 0;
  if (order == 3) {
    // Pad 12 edge values on every axis, then prefilter along each axis.
    Shape3 ps{s[0] + 2 * kPad, s[1] + 2 * kPad, s[2] + 2 * kPad};
    std::vector<double> padded(ImageGrid::voxels(ps));
    for (std::int64_t z = 0; z < ps[0]; ++z)
      for (std::int64_t y = 0; y < ps[1]; ++y)
        for (std::int64_t x = 0; x < ps[2]; ++x) {
          const std::int64_t sz = std::clamp<std::int64_t>(z - kPad, 0, s[0] - 1);
          const std::int64_t sy = std::clamp<std::int64_t>(y - kPad, 0, s[1] - 1);
          const std::int64_t sx = std::clamp<std::int64_t>(x - kPad, 0, s[2] - 1);
          padded[static_cast<std::size_t>((z * ps[1] + y) * ps[2] + x)] =
              in[static_cast<std::size_t>((sz * s[1] + sy) * s[2] + sx)];
        }
    for (int axis = 0; axis < 3; ++axis) forEachLine(padded, ps, axis, cubicPrefilter);
    cur = std::move(padded);
    s = ps;
    offset = static_cast<double>(kPad);
  }
  for (int axis = 0; axis < 3; ++axis) {
    const double scale = static_cast<double>(in_shape[axis]) / static_cast<double>(out_shape[axis]);
    cur = interpolateAxis(cur, s, axis, out_shape[axis], scale, offset, order);
    s[axis] = out_shape[axis];
  }
  for (double& v : cur) v = std::clamp(v, vmin, vmax);
  return cur;
}

std::vector<double> nearestAlongAxis(const std::vector<double>& in, const Shape3& in_shape, int axis,
                                     std::int64_t out_size) {
  const double scale = static_cast<double>(in_shape[axis]) / static_cast<double>(out_size);
  return interpolateAxis(in, in_shape, axis, out_size, scale, 0.0, 0);
}

}  // namespace ctd::nnunet
