#include "segment/nnunet/NnunetResampling.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"
#include "segment/nnunet/SplineZoom.h"

namespace ctd::nnunet {

Shape3 computeNewShape(const Shape3& old_shape, const Spacing3& old_spacing, const Spacing3& new_spacing) {
  Shape3 s{};
  // Python's round() on i / j * k: half to even.
  for (int a = 0; a < 3; ++a)
    s[a] = static_cast<std::int64_t>(
        std::nearbyint(old_spacing[a] / new_spacing[a] * static_cast<double>(old_shape[a])));
  return s;
}

ResamplingParams resamplingParams(const nn::ResamplingSpec& spec) {
  if (spec.function != "resample_data_or_seg_to_shape" && spec.function != "resample_data_or_seg_to_spacing")
    throw Error("resampling function '" + spec.function + "' is not supported (resample_data_or_seg_to_shape)");
  ResamplingParams p;
  const auto& k = spec.kwargs;
  if (k.contains("is_seg") && k["is_seg"].is_boolean() && k["is_seg"].get<bool>())
    throw Error("resampling with is_seg=true cannot be used for images or probabilities");
  if (k.contains("order") && k["order"].is_number()) p.order = k["order"].get<int>();
  if (k.contains("order_z") && k["order_z"].is_number()) p.order_z = k["order_z"].get<int>();
  if (k.contains("force_separate_z") && k["force_separate_z"].is_boolean())
    p.force_separate_z = k["force_separate_z"].get<bool>();
  if (k.contains("separate_z_anisotropy_threshold") && k["separate_z_anisotropy_threshold"].is_number())
    p.anisotropy_threshold = k["separate_z_anisotropy_threshold"].get<double>();
  return p;
}

namespace {

bool anisotropic(const Spacing3& s, double threshold) {
  return *std::max_element(s.begin(), s.end()) / *std::min_element(s.begin(), s.end()) > threshold;
}

// get_lowres_axis: the axes whose spacing equals the maximum.
std::vector<int> lowresAxes(const Spacing3& s) {
  const double m = *std::max_element(s.begin(), s.end());
  std::vector<int> axes;
  for (int a = 0; a < 3; ++a)
    if (m / s[a] == 1.0) axes.push_back(a);
  return axes;
}

}  // namespace

std::optional<int> separateZAxis(const ResamplingParams& p, const Spacing3& current, const Spacing3& target) {
  std::vector<int> axes;
  if (p.force_separate_z.has_value()) {
    if (!*p.force_separate_z) return std::nullopt;
    axes = lowresAxes(current);
  } else if (anisotropic(current, p.anisotropy_threshold)) {
    axes = lowresAxes(current);
  } else if (anisotropic(target, p.anisotropy_threshold)) {
    axes = lowresAxes(target);
  } else {
    return std::nullopt;
  }
  if (axes.size() != 1) return std::nullopt;
  return axes[0];
}

ImageGrid resampleToShape(const ImageGrid& in, const Shape3& new_shape, const Spacing3& current,
                          const Spacing3& target, const ResamplingParams& p) {
  if (in.shape == new_shape) return in;
  const std::optional<int> axis = separateZAxis(p, current, target);
  ImageGrid out(in.channels, new_shape);
  const std::size_t n_in = in.voxels();
  for (int c = 0; c < in.channels; ++c) {
    const float* src = in.channel(c);
    std::vector<double> vals(src, src + n_in);
    std::vector<double> res;
    if (!axis) {
      res = splineResize(vals, in.shape, new_shape, p.order);
    } else {
      // Each slice across `axis` on its own (its own clipping range, as skimage sees a 2D image),
      // then order_z along `axis`.
      const int ax = *axis;
      Shape3 mid = new_shape;
      mid[ax] = in.shape[ax];
      Shape3 slice_in = in.shape, slice_out = new_shape;
      slice_in[ax] = 1;
      slice_out[ax] = 1;
      res.assign(ImageGrid::voxels(mid), 0.0);
      const Shape3 ist{in.shape[1] * in.shape[2], in.shape[2], 1};
      const Shape3 mst{mid[1] * mid[2], mid[2], 1};
      for (std::int64_t s = 0; s < in.shape[ax]; ++s) {
        std::vector<double> plane(ImageGrid::voxels(slice_in));
        std::size_t o = 0;
        for (std::int64_t a = 0; a < slice_in[0]; ++a)
          for (std::int64_t b = 0; b < slice_in[1]; ++b)
            for (std::int64_t d = 0; d < slice_in[2]; ++d) {
              const std::int64_t idx[3] = {a, b, d};
              std::int64_t off = s * ist[ax];
              for (int k = 0; k < 3; ++k)
                if (k != ax) off += idx[k] * ist[k];
              plane[o++] = vals[static_cast<std::size_t>(off)];
            }
        const std::vector<double> r = splineResize(plane, slice_in, slice_out, p.order);
        o = 0;
        for (std::int64_t a = 0; a < slice_out[0]; ++a)
          for (std::int64_t b = 0; b < slice_out[1]; ++b)
            for (std::int64_t d = 0; d < slice_out[2]; ++d) {
              const std::int64_t idx[3] = {a, b, d};
              std::int64_t off = s * mst[ax];
              for (int k = 0; k < 3; ++k)
                if (k != ax) off += idx[k] * mst[k];
              res[static_cast<std::size_t>(off)] = r[o++];
            }
      }
      if (in.shape[ax] != new_shape[ax]) {
        if (p.order_z != 0 && p.order_z != 1 && p.order_z != 3)
          throw Error("order_z " + std::to_string(p.order_z) + " is not supported (0, 1 or 3)");
        if (p.order_z == 0) {
          res = nearestAlongAxis(res, mid, ax, new_shape[ax]);
        } else {
          // map_coordinates(order_z, mode='nearest') along one axis; other axes are at integer
          // coordinates, where the spline reproduces the data exactly.
          Shape3 line_in{1, 1, 1}, line_out{1, 1, 1};
          line_in[ax] = mid[ax];
          line_out[ax] = new_shape[ax];
          std::vector<double> full(ImageGrid::voxels(new_shape));
          const Shape3 fst{new_shape[1] * new_shape[2], new_shape[2], 1};
          const int a1 = ax == 0 ? 1 : 0, a2 = ax == 2 ? 1 : 2;
          for (std::int64_t i = 0; i < mid[a1]; ++i)
            for (std::int64_t j = 0; j < mid[a2]; ++j) {
              std::vector<double> line(static_cast<std::size_t>(mid[ax]));
              for (std::int64_t k = 0; k < mid[ax]; ++k)
                line[static_cast<std::size_t>(k)] = res[static_cast<std::size_t>(i * mst[a1] + j * mst[a2] + k * mst[ax])];
              // splineResize clips to the line's range, map_coordinates does not: only order 1 is
              // range-preserving anyway, and order 3 along z is not what nnU-Net plans use.
              const std::vector<double> r = splineResize(line, line_in, line_out, p.order_z);
              for (std::int64_t k = 0; k < new_shape[ax]; ++k)
                full[static_cast<std::size_t>(i * fst[a1] + j * fst[a2] + k * fst[ax])] = r[static_cast<std::size_t>(k)];
            }
          res = std::move(full);
        }
      }
    }
    float* dst = out.channel(c);
    for (std::size_t i = 0; i < res.size(); ++i) dst[i] = static_cast<float>(res[i]);
  }
  return out;
}

}  // namespace ctd::nnunet
