// Sliding-window mechanics: step positions and the Gaussian map against nnU-Net's own functions,
// and tiling/padding/mirroring/fold averaging with stand-in networks whose exact output is known.
#include <gtest/gtest.h>

#include <cmath>

#include "NnunetFixtures.h"
#include "core/Error.h"
#include "segment/nnunet/SlidingWindowPredictor.h"

using namespace ctd::nnunet;
using ctd::nn::Tensor;
using ctd::nnunet::testing::arrayCase;

TEST(SlidingWindow, StepsMatchNnunet) {
  for (const char* name : {"steps_27x43x43", "steps_110x64x200", "steps_200x450x451", "steps_33x70x70",
                           "steps_40x40x40"}) {
    const auto& c = arrayCase(name);
    const auto steps = computeSteps(c["image"].get<std::vector<std::int64_t>>(),
                                    c["tile"].get<std::vector<std::int64_t>>(), c["step"].get<double>());
    EXPECT_EQ(steps, (c["steps"].get<std::vector<std::vector<std::int64_t>>>())) << name;
  }
}

TEST(SlidingWindow, GaussianMatchesNnunet) {
  for (const char* name : {"gaussian_16x32x32", "gaussian_8x12x10", "gaussian_128x128x128", "gaussian_20x24"}) {
    const auto& c = arrayCase(name);
    const auto g = computeGaussian(c["tile"].get<std::vector<std::int64_t>>());
    const auto idx = c["index"].get<std::vector<std::size_t>>();
    const auto expected = c["expected"].get<std::vector<float>>();
    double d = 0;
    for (std::size_t i = 0; i < idx.size(); ++i) d = std::max(d, static_cast<double>(std::abs(g[idx[i]] - expected[i])));
    std::printf("[ %s ] max |delta| = %.3g (peak 10, float16)\n", name, d);
    EXPECT_EQ(d, 0.0) << name;  // both are float16 values of the same double computation
  }
}

TEST(SlidingWindow, MirrorCombinationsInItertoolsOrder) {
  EXPECT_EQ(mirrorCombinations({0, 1, 2}),
            (std::vector<std::vector<int>>{{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}}));
  EXPECT_EQ(mirrorCombinations({1, 2}), (std::vector<std::vector<int>>{{1}, {2}, {1, 2}}));
}

namespace {

ImageGrid ramp(Shape3 s) {
  ImageGrid g(1, s);
  for (std::size_t i = 0; i < g.data.size(); ++i) g.data[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 3.0);
  return g;
}

// The mechanics are checked with float32 accumulators (float16 rounding is checked by the parity
// tests against nnU-Net itself).
SlidingWindowOptions exact() {
  SlidingWindowOptions o;
  o.half_accumulators = false;
  return o;
}

// A voxel-wise "network": logits k = (k + 1) * x + k. Tiling, padding, weighting and mirroring must
// reproduce it exactly wherever the image is.
PatchNetwork pointwise(int K, float scale = 1.0f) {
  return [K, scale](const Tensor& x) {
    std::vector<std::int64_t> s = x.shape;
    s[1] = K;
    Tensor y(s);
    const std::size_t n = x.numel();
    for (int k = 0; k < K; ++k)
      for (std::size_t i = 0; i < n; ++i)
        y.data[static_cast<std::size_t>(k) * n + i] = scale * (static_cast<float>(k + 1) * x.data[i] + static_cast<float>(k));
    return y;
  };
}

void expectPointwise(const ImageGrid& in, const ImageGrid& out, int K, float scale = 1.0f) {
  ASSERT_EQ(out.channels, K);
  ASSERT_EQ(out.shape, in.shape);
  double d = 0;
  for (int k = 0; k < K; ++k)
    for (std::size_t i = 0; i < in.voxels(); ++i)
      d = std::max(d, static_cast<double>(std::abs(out.channel(k)[i] -
                                                   scale * (static_cast<float>(k + 1) * in.data[i] + static_cast<float>(k)))));
  EXPECT_LT(d, 1e-4);
}

}  // namespace

TEST(SlidingWindow, TilesCoverTheImageExactly) {
  const ImageGrid img = ramp({27, 43, 45});
  SlidingWindowPredictor p({16, 32, 32}, 2, exact());
  EXPECT_EQ(p.tileCount(img.shape), 3u * 2u * 2u);
  expectPointwise(img, p.predictLogits(img, {pointwise(2)}), 2);
}

TEST(SlidingWindow, SmallerThanThePatchIsPaddedAndCroppedBack) {
  const ImageGrid img = ramp({5, 20, 33});
  SlidingWindowPredictor p({8, 32, 32}, 3, exact());
  std::vector<std::int64_t> seen;
  const PatchNetwork net = [&](const Tensor& x) {
    seen = x.shape;
    return pointwise(3)(x);
  };
  expectPointwise(img, p.predictLogits(img, {net}), 3);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 1, 8, 32, 32}));
}

TEST(SlidingWindow, MirroringUndoesEachFlip) {
  // A network that is not flip-invariant: it adds the patch-local x coordinate. With mirroring,
  // each flipped prediction is flipped back, so the average adds the mean coordinate.
  const ImageGrid img = ramp({16, 32, 32});
  SlidingWindowOptions o = exact();
  o.mirror = true;
  o.mirror_axes = {0, 1, 2};
  SlidingWindowPredictor p({16, 32, 32}, 1, o);
  int calls = 0;
  const PatchNetwork net = [&](const Tensor& x) {
    ++calls;
    Tensor y = x;
    for (std::size_t i = 0; i < y.data.size(); ++i) y.data[i] += static_cast<float>(i % 32);
    return y;
  };
  const ImageGrid out = p.predictLogits(img, {net});
  EXPECT_EQ(calls, 8);
  // Axis 2 (x) is flipped in 4 of the 8 evaluations: coordinate x there reads 31 - x.
  double d = 0;
  for (std::size_t i = 0; i < img.voxels(); ++i) {
    const double x = static_cast<double>(i % 32);
    d = std::max(d, std::abs(out.data[i] - (img.data[i] + (4 * x + 4 * (31 - x)) / 8.0)));
  }
  EXPECT_LT(d, 1e-4);
}

TEST(SlidingWindow, FoldsAreAveraged) {
  const ImageGrid img = ramp({20, 40, 36});
  SlidingWindowPredictor p({16, 32, 32}, 2, exact());
  // Scales 1 and 3 average to 2.
  expectPointwise(img, p.predictLogits(img, {pointwise(2, 1.0f), pointwise(2, 3.0f)}), 2, 2.0f);
}

TEST(SlidingWindow, TwoDimensionalNetworkRunsSliceBySlice) {
  const ImageGrid img = ramp({4, 40, 30});
  SlidingWindowOptions o = exact();
  o.mirror = true;
  o.mirror_axes = {0, 1};
  SlidingWindowPredictor p({32, 32}, 2, o);
  std::vector<std::int64_t> seen;
  const PatchNetwork net = [&](const Tensor& x) {
    seen = x.shape;
    return pointwise(2)(x);
  };
  expectPointwise(img, p.predictLogits(img, {net}), 2);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 1, 32, 32}));
  EXPECT_EQ(p.tileCount(img.shape), 4u * 2u * 1u);
}

TEST(SlidingWindow, BadOptionsAreErrors) {
  SlidingWindowOptions o;
  o.step_size = 0;
  EXPECT_THROW(SlidingWindowPredictor({16, 16, 16}, 2, o), ctd::Error);
  o.step_size = 0.5;
  o.mirror_axes = {3};
  EXPECT_THROW(SlidingWindowPredictor({16, 16, 16}, 2, o), ctd::Error);
  SlidingWindowPredictor p({8, 8, 8}, 2, {});
  const PatchNetwork wrong = [](const Tensor& x) { return x; };  // 1 channel instead of 2
  EXPECT_THROW(p.predictLogits(ramp({8, 8, 8}), {wrong}), ctd::Error);
}
