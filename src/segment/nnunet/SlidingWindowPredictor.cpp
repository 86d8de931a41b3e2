#include "segment/nnunet/SlidingWindowPredictor.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/Error.h"

namespace ctd::nnunet {

std::vector<std::vector<std::int64_t>> computeSteps(const std::vector<std::int64_t>& image_size,
                                                    const std::vector<std::int64_t>& tile_size, double step_size) {
  if (!(step_size > 0 && step_size <= 1)) throw Error("step size must be in (0, 1]");
  std::vector<std::vector<std::int64_t>> steps;
  for (std::size_t d = 0; d < tile_size.size(); ++d) {
    const double target = static_cast<double>(tile_size[d]) * step_size;
    const std::int64_t n =
        static_cast<std::int64_t>(std::ceil(static_cast<double>(image_size[d] - tile_size[d]) / target)) + 1;
    const std::int64_t max_step = image_size[d] - tile_size[d];
    const double actual = n > 1 ? static_cast<double>(max_step) / static_cast<double>(n - 1) : 99999999999.0;
    std::vector<std::int64_t> s;
    // np.round: half to even.
    for (std::int64_t i = 0; i < n; ++i)
      s.push_back(static_cast<std::int64_t>(std::nearbyint(actual * static_cast<double>(i))));
    steps.push_back(std::move(s));
  }
  return steps;
}

std::vector<float> computeGaussian(const std::vector<std::int64_t>& tile, double sigma_scale,
                                   double value_scaling_factor) {
  // gaussian_filter of a unit impulse at tile // 2 (mode constant, truncate 4): the product of
  // the normalised 1D kernels, zero beyond their radius.
  std::vector<std::vector<double>> axis_w;
  for (std::int64_t n : tile) {
    const double sigma = static_cast<double>(n) * sigma_scale;
    const std::int64_t radius = static_cast<std::int64_t>(4.0 * sigma + 0.5);
    std::vector<double> k(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0;
    for (std::int64_t i = -radius; i <= radius; ++i) {
      const double v = std::exp(-0.5 * static_cast<double>(i * i) / (sigma * sigma));
      k[static_cast<std::size_t>(i + radius)] = v;
      sum += v;
    }
    std::vector<double> w(static_cast<std::size_t>(n), 0.0);
    const std::int64_t c = n / 2;
    for (std::int64_t x = 0; x < n; ++x)
      if (std::llabs(x - c) <= radius) w[static_cast<std::size_t>(x)] = k[static_cast<std::size_t>(x - c + radius)] / sum;
    axis_w.push_back(std::move(w));
  }
  std::size_t total = 1;
  for (auto n : tile) total *= static_cast<std::size_t>(n);
  std::vector<double> g(total, 1.0);
  std::size_t inner = total;
  for (std::size_t d = 0; d < tile.size(); ++d) {
    const std::size_t n = static_cast<std::size_t>(tile[d]);
    inner /= n;
    for (std::size_t i = 0; i < total; ++i) g[i] *= axis_w[d][(i / inner) % n];
  }
  const double peak = *std::max_element(g.begin(), g.end());
  std::vector<float> out(total);
  float min_nonzero = std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < total; ++i) {
    // nnU-Net keeps the map as torch.float16.
    const float h = static_cast<float>(static_cast<_Float16>(g[i] / (peak / value_scaling_factor)));
    out[i] = h;
    if (h > 0) min_nonzero = std::min(min_nonzero, h);
  }
  for (float& v : out)
    if (v == 0.0f) v = min_nonzero;
  return out;
}

std::vector<std::vector<int>> mirrorCombinations(const std::vector<int>& axes) {
  std::vector<std::vector<int>> out;
  const int n = static_cast<int>(axes.size());
  for (int size = 1; size <= n; ++size) {
    // itertools.combinations order: lexicographic over positions.
    std::vector<int> idx(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) idx[static_cast<std::size_t>(i)] = i;
    while (true) {
      std::vector<int> c;
      for (int i : idx) c.push_back(axes[static_cast<std::size_t>(i)]);
      out.push_back(std::move(c));
      int i = size - 1;
      while (i >= 0 && idx[static_cast<std::size_t>(i)] == i + n - size) --i;
      if (i < 0) break;
      ++idx[static_cast<std::size_t>(i)];
      for (int j = i + 1; j < size; ++j) idx[static_cast<std::size_t>(j)] = idx[static_cast<std::size_t>(j - 1)] + 1;
    }
  }
  return out;
}

namespace {

// Reverses the given spatial axes (0..2 of a [C][d][h][w] block) in place.
void flipAxes(std::vector<float>& v, std::int64_t channels, const Shape3& s, const std::vector<int>& axes) {
  std::vector<float> tmp(v.size());
  const std::size_t per = ImageGrid::voxels(s);
  for (int ax : axes) {
    for (std::int64_t c = 0; c < channels; ++c) {
      const float* src = v.data() + static_cast<std::size_t>(c) * per;
      float* dst = tmp.data() + static_cast<std::size_t>(c) * per;
      for (std::int64_t z = 0; z < s[0]; ++z)
        for (std::int64_t y = 0; y < s[1]; ++y)
          for (std::int64_t x = 0; x < s[2]; ++x) {
            std::int64_t zz = z, yy = y, xx = x;
            if (ax == 0) zz = s[0] - 1 - z;
            if (ax == 1) yy = s[1] - 1 - y;
            if (ax == 2) xx = s[2] - 1 - x;
            dst[(z * s[1] + y) * s[2] + x] = src[(zz * s[1] + yy) * s[2] + xx];
          }
    }
    v.swap(tmp);
  }
}

}  // namespace

SlidingWindowPredictor::SlidingWindowPredictor(std::vector<std::int64_t> patch_size, int num_classes,
                                               SlidingWindowOptions options)
    : patch_(std::move(patch_size)), num_classes_(num_classes), opt_(std::move(options)) {
  if (patch_.size() != 2 && patch_.size() != 3) throw Error("patch size must have 2 or 3 entries");
  if (!(opt_.step_size > 0 && opt_.step_size <= 1)) throw Error("step size must be in (0, 1]");
  for (int a : opt_.mirror_axes)
    if (a < 0 || a >= static_cast<int>(patch_.size()))
      throw Error("mirroring axis " + std::to_string(a) + " does not exist for a " +
                  std::to_string(patch_.size()) + "D network");
}

namespace {

// The 3D tile of a (2D or 3D) patch, and the padded image shape pad_nd_image gives.
Shape3 tileOf(const std::vector<std::int64_t>& patch) {
  return patch.size() == 3 ? Shape3{patch[0], patch[1], patch[2]} : Shape3{1, patch[0], patch[1]};
}

}  // namespace

namespace {

// nnU-Net's tile grid over an image: the padded shape (pad_nd_image), the padding's lower side,
// and the tile origins per axis of the padded image (a 2D network: every slice along axis 0).
struct TileGrid {
  Shape3 padded{0, 0, 0}, lo{0, 0, 0};
  std::vector<std::vector<std::int64_t>> steps;  // 3 lists
};

TileGrid tileGrid(const Shape3& shape, const Shape3& tile, bool is2d, double step_size,
                  const std::optional<Box3>& roi) {
  TileGrid g;
  g.padded = shape;
  // pad_nd_image(constant 0): only where the image is smaller than the patch; the lower side gets
  // the smaller half.
  for (int a = is2d ? 1 : 0; a < 3; ++a)
    if (shape[a] < tile[a]) {
      g.padded[a] = tile[a];
      g.lo[a] = (tile[a] - shape[a]) / 2;
    }
  std::vector<std::int64_t> isz, tsz;
  for (int a = is2d ? 1 : 0; a < 3; ++a) {
    isz.push_back(g.padded[a]);
    tsz.push_back(tile[a]);
  }
  g.steps = computeSteps(isz, tsz, step_size);
  if (is2d) {
    std::vector<std::int64_t> all(static_cast<std::size_t>(g.padded[0]));
    for (std::int64_t z = 0; z < g.padded[0]; ++z) all[static_cast<std::size_t>(z)] = z;
    g.steps.insert(g.steps.begin(), all);
  }
  if (roi && (roi->end[0] <= roi->begin[0] || roi->end[1] <= roi->begin[1] || roi->end[2] <= roi->begin[2])) {
    for (auto& s : g.steps) s.clear();
  } else if (roi) {
    // A tile overlaps a box iff it does so along every axis, so the grid stays a product of
    // per-axis lists: keep the origins whose [s, s + tile) meets the box (in padded coordinates).
    for (int a = 0; a < 3; ++a) {
      const std::int64_t b = roi->begin[a] + g.lo[a], e = roi->end[a] + g.lo[a];
      std::vector<std::int64_t> kept;
      for (std::int64_t s : g.steps[static_cast<std::size_t>(a)])
        if (s < e && s + tile[a] > b) kept.push_back(s);
      g.steps[static_cast<std::size_t>(a)] = std::move(kept);
    }
  }
  return g;
}

}  // namespace

std::size_t SlidingWindowPredictor::tileCount(const Shape3& shape) const {
  const TileGrid g = tileGrid(shape, tileOf(patch_), patch_.size() == 2, opt_.step_size, opt_.roi);
  return g.steps[0].size() * g.steps[1].size() * g.steps[2].size();
}

ImageGrid SlidingWindowPredictor::predictLogits(const ImageGrid& data, const std::vector<PatchNetwork>& folds,
                                                const std::function<void(std::size_t, std::size_t)>& progress) const {
  if (folds.empty()) throw Error("no network to predict with");
  const bool is2d = patch_.size() == 2;
  const Shape3 tile = tileOf(patch_);
  const int C = data.channels, K = num_classes_;

  if (opt_.roi)
    for (int a = 0; a < 3; ++a)
      if (opt_.roi->begin[a] < 0 || opt_.roi->end[a] > data.shape[a] || opt_.roi->begin[a] > opt_.roi->end[a])
        throw Error("region of interest lies outside the image");
  const TileGrid grid = tileGrid(data.shape, tile, is2d, opt_.step_size, opt_.roi);
  const Shape3 padded = grid.padded, lo = grid.lo;
  const std::vector<std::vector<std::int64_t>>& steps = grid.steps;
  const ImageGrid* img = &data;
  ImageGrid padded_img;
  if (padded != data.shape) {
    padded_img = ImageGrid(C, padded);
    for (int c = 0; c < C; ++c)
      for (std::int64_t z = 0; z < data.shape[0]; ++z)
        for (std::int64_t y = 0; y < data.shape[1]; ++y) {
          const float* src = data.channel(c) + (z * data.shape[1] + y) * data.shape[2];
          float* dst = padded_img.channel(c) + ((z + lo[0]) * padded[1] + y + lo[1]) * padded[2] + lo[2];
          std::copy(src, src + data.shape[2], dst);
        }
    img = &padded_img;
  }

  const std::vector<float> gauss =
      opt_.use_gaussian ? computeGaussian(patch_) : std::vector<float>(ImageGrid::voxels(tile), 1.0f);
  std::vector<std::vector<int>> combos;
  if (opt_.mirror && !opt_.mirror_axes.empty()) {
    combos = mirrorCombinations(opt_.mirror_axes);
    // Patch axes -> axes of the 3D tile block.
    if (is2d)
      for (auto& c : combos)
        for (int& a : c) a += 1;
  }

  const bool half = opt_.half_accumulators;
  auto rnd = [half](float v) { return half ? roundToHalf(v) : v; };
  const std::size_t tile_vox = ImageGrid::voxels(tile);
  std::vector<std::int64_t> in_shape{1, C}, out_expect{1, K};
  for (auto p : patch_) {
    in_shape.push_back(p);
    out_expect.push_back(p);
  }
  const std::size_t per_fold = steps[0].size() * steps[1].size() * steps[2].size();
  const std::size_t total = per_fold * folds.size();
  std::size_t done = 0;
  nn::Tensor x(in_shape);

  auto run = [&](const PatchNetwork& net, const std::vector<float>& input) {
    nn::Tensor t(in_shape, input);
    nn::Tensor y = net(t);
    if (y.shape != out_expect)
      throw Error("network output " + nn::shapeString(y.shape) + " does not match the expected " +
                  nn::shapeString(out_expect));
    return std::move(y.data);
  };

  // nnU-Net runs the whole sliding window per fold, normalises it, then averages the folds.
  ImageGrid fold_sum;
  ImageGrid logits(K, padded);
  std::vector<float> weight(ImageGrid::voxels(padded));
  for (std::size_t f = 0; f < folds.size(); ++f) {
    const PatchNetwork& net = folds[f];
    std::fill(logits.data.begin(), logits.data.end(), 0.0f);
    std::fill(weight.begin(), weight.end(), 0.0f);
    for (std::int64_t sz : steps[0])
      for (std::int64_t sy : steps[1])
        for (std::int64_t sx : steps[2]) {
          for (int c = 0; c < C; ++c)
            for (std::int64_t z = 0; z < tile[0]; ++z)
              for (std::int64_t y = 0; y < tile[1]; ++y) {
                const float* src = img->channel(c) + ((sz + z) * padded[1] + sy + y) * padded[2] + sx;
                std::copy(src, src + tile[2], x.data.data() + static_cast<std::size_t>(c) * tile_vox +
                                                  static_cast<std::size_t>((z * tile[1] + y) * tile[2]));
              }
          std::vector<float> p = run(net, x.data);
          for (const auto& axes : combos) {
            std::vector<float> xin = x.data;
            flipAxes(xin, C, tile, axes);
            std::vector<float> q = run(net, xin);
            flipAxes(q, K, tile, axes);
            for (std::size_t i = 0; i < p.size(); ++i) p[i] += q[i];
          }
          if (!combos.empty()) {
            const float div = static_cast<float>(combos.size() + 1);
            for (float& v : p) v /= div;
          }
          for (int k = 0; k < K; ++k)
            for (std::int64_t z = 0; z < tile[0]; ++z)
              for (std::int64_t y = 0; y < tile[1]; ++y) {
                const std::size_t t0 = static_cast<std::size_t>((z * tile[1] + y) * tile[2]);
                float* dst = logits.channel(k) + ((sz + z) * padded[1] + sy + y) * padded[2] + sx;
                const float* src = p.data() + static_cast<std::size_t>(k) * tile_vox + t0;
                for (std::int64_t i = 0; i < tile[2]; ++i)
                  dst[i] = rnd(dst[i] + src[i] * gauss[t0 + static_cast<std::size_t>(i)]);
              }
          for (std::int64_t z = 0; z < tile[0]; ++z)
            for (std::int64_t y = 0; y < tile[1]; ++y) {
              const std::size_t t0 = static_cast<std::size_t>((z * tile[1] + y) * tile[2]);
              float* w = weight.data() + ((sz + z) * padded[1] + sy + y) * padded[2] + sx;
              for (std::int64_t i = 0; i < tile[2]; ++i) w[i] = rnd(w[i] + gauss[t0 + static_cast<std::size_t>(i)]);
            }
          ++done;
          if (progress) progress(done, total);
        }
    const std::size_t nv = weight.size();
    for (int k = 0; k < K; ++k) {
      float* l = logits.channel(k);
      // Only voxels outside a region of interest can have no tile; they are overwritten below.
      for (std::size_t i = 0; i < nv; ++i)
        if (weight[i] > 0) l[i] = rnd(l[i] / weight[i]);
    }
    if (f == 0) {
      fold_sum = logits;
    } else {
      for (std::size_t i = 0; i < fold_sum.data.size(); ++i) fold_sum.data[i] = rnd(fold_sum.data[i] + logits.data[i]);
    }
  }
  if (folds.size() > 1) {
    const float nf = static_cast<float>(folds.size());
    for (float& v : fold_sum.data) v = rnd(v / nf);
  }

  if (opt_.roi) {
    std::vector<float> outside = opt_.outside_logits;
    if (outside.empty()) {
      outside.assign(static_cast<std::size_t>(K), -20.0f);
      outside[0] = 0.0f;
    }
    if (outside.size() != static_cast<std::size_t>(K)) throw Error("outside_logits must have one value per class");
    const Box3 r{{opt_.roi->begin[0] + lo[0], opt_.roi->begin[1] + lo[1], opt_.roi->begin[2] + lo[2]},
                 {opt_.roi->end[0] + lo[0], opt_.roi->end[1] + lo[1], opt_.roi->end[2] + lo[2]}};
    for (int k = 0; k < K; ++k) {
      float* l = fold_sum.channel(k);
      const float v = outside[static_cast<std::size_t>(k)];
      for (std::int64_t z = 0; z < padded[0]; ++z)
        for (std::int64_t y = 0; y < padded[1]; ++y) {
          float* row = l + (z * padded[1] + y) * padded[2];
          if (z < r.begin[0] || z >= r.end[0] || y < r.begin[1] || y >= r.end[1] || r.begin[2] >= r.end[2]) {
            std::fill(row, row + padded[2], v);
          } else {
            std::fill(row, row + r.begin[2], v);
            std::fill(row + r.end[2], row + padded[2], v);
          }
        }
    }
  }

  // Cut the padding away.
  if (padded == data.shape) return fold_sum;
  ImageGrid out(K, data.shape);
  for (int k = 0; k < K; ++k)
    for (std::int64_t z = 0; z < data.shape[0]; ++z)
      for (std::int64_t y = 0; y < data.shape[1]; ++y) {
        const std::size_t prow = static_cast<std::size_t>(((z + lo[0]) * padded[1] + y + lo[1]) * padded[2] + lo[2]);
        const float* src = fold_sum.channel(k) + prow;
        std::copy(src, src + data.shape[2], out.channel(k) + (z * data.shape[1] + y) * data.shape[2]);
      }
  return out;
}

}  // namespace ctd::nnunet
