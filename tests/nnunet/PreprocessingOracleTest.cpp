// Each preprocessing step against nnunetv2 / skimage / scipy outputs on small arrays of real CT
// (tests/fixtures/nnunet/arrays.json, written by tests/oracle/make_nnunet_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>

#include "NnunetFixtures.h"
#include "segment/nnunet/IntensityNormalization.h"
#include "segment/nnunet/NnunetResampling.h"
#include "segment/nnunet/NonzeroCrop.h"
#include "segment/nnunet/SplineZoom.h"
#include "core/Error.h"

using namespace ctd::nnunet;
using ctd::nnunet::testing::arrayCase;

namespace {

Shape3 shape3(const nlohmann::json& j) { return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>(), j[2].get<std::int64_t>()}; }
Spacing3 spacing3(const nlohmann::json& j) { return {j[0].get<double>(), j[1].get<double>(), j[2].get<double>()}; }

double maxAbsDiff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

}  // namespace

class SkimageResize : public ::testing::TestWithParam<const char*> {};

TEST_P(SkimageResize, MatchesSkimage) {
  const auto& c = arrayCase(GetParam());
  const auto in = c["input"].get<std::vector<double>>();
  const auto expected = c["expected"].get<std::vector<double>>();
  const auto got = splineResize(in, shape3(c["in_shape"]), shape3(c["out_shape"]), c["order"].get<int>());
  const double d = maxAbsDiff(got, expected);
  std::printf("[ %s ] max |delta| = %.3g HU\n", GetParam(), d);
  // HU-scale values computed in double on both sides: anything beyond rounding is a bug.
  EXPECT_LT(d, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Orders, SkimageResize,
                         ::testing::Values("skimage_resize_order3", "skimage_resize_order1", "skimage_resize_order0",
                                           "skimage_resize_2d"));

TEST(SkimageResize, SameShapeOrder3ReproducesTheInput) {
  const auto& same = arrayCase("skimage_resize_order3");
  const auto in = same["input"].get<std::vector<double>>();
  const Shape3 s = shape3(same["in_shape"]);
  const auto got = splineResize(in, s, s, 3);
  EXPECT_LT(maxAbsDiff(got, in), 1e-6);
}

class NnunetResample : public ::testing::TestWithParam<const char*> {};

TEST_P(NnunetResample, MatchesResampleDataOrSegToShape) {
  const auto& c = arrayCase(GetParam());
  const auto in = c["input"].get<std::vector<float>>();
  ImageGrid g(1, shape3(c["in_shape"]));
  std::copy(in.begin(), in.end(), g.data.begin());
  ResamplingParams p;
  p.order = c["order"].get<int>();
  p.order_z = c["order_z"].get<int>();
  const Spacing3 cur = spacing3(c["current"]), tgt = spacing3(c["target"]);
  EXPECT_EQ(computeNewShape(g.shape, cur, tgt), shape3(c["new_shape"]));
  const ImageGrid r = resampleToShape(g, shape3(c["new_shape"]), cur, tgt, p);
  const auto expected = c["expected"].get<std::vector<double>>();
  const std::vector<double> got(r.data.begin(), r.data.end());
  const double d = maxAbsDiff(got, expected);
  std::printf("[ %s ] separate z: %s, max |delta| = %.3g HU\n", GetParam(),
              separateZAxis(p, cur, tgt) ? "yes" : "no", d);
  EXPECT_LT(d, 1e-3);  // float32 output of HU values in the thousands: a few ulp
}

INSTANTIATE_TEST_SUITE_P(Spacings, NnunetResample,
                         ::testing::Values("nnunet_resample_iso", "nnunet_resample_aniso", "nnunet_resample_aniso_target",
                                           "nnunet_resample_iso_order1", "nnunet_resample_aniso_order1",
                                           "nnunet_resample_aniso_target_order1"));

TEST(NnunetResample, SeparateZDecision) {
  ResamplingParams p;
  EXPECT_EQ(separateZAxis(p, {4.0, 0.5, 0.5}, {4.0, 0.5, 0.5}), 0);
  EXPECT_EQ(separateZAxis(p, {0.5, 0.5, 4.0}, {1, 1, 1}), 2);
  EXPECT_FALSE(separateZAxis(p, {1.5, 1.0, 1.2}, {1, 1, 1}).has_value());
  EXPECT_FALSE(separateZAxis(p, {0.24, 1.25, 1.25}, {0.24, 1.25, 1.25}).has_value());  // two low-res axes
  EXPECT_EQ(separateZAxis(p, {1, 1, 1}, {3.5, 1, 1}), 0);                               // from the target
  p.force_separate_z = false;
  EXPECT_FALSE(separateZAxis(p, {4.0, 0.5, 0.5}, {1, 1, 1}).has_value());
}

TEST(NonzeroCrop, MatchesCropToNonzero) {
  const auto& c = arrayCase("crop_to_nonzero");
  const auto in = c["input"].get<std::vector<float>>();
  ImageGrid g(1, shape3(c["in_shape"]));
  std::copy(in.begin(), in.end(), g.data.begin());
  const NonzeroCrop r = cropToNonzero(g);
  for (int a = 0; a < 3; ++a) {
    EXPECT_EQ(r.bbox.begin[a], c["bbox"][a][0].get<std::int64_t>()) << "axis " << a;
    EXPECT_EQ(r.bbox.end[a], c["bbox"][a][1].get<std::int64_t>()) << "axis " << a;
  }
  EXPECT_EQ(r.mask, c["mask"].get<std::vector<std::uint8_t>>());  // the enclosed zero voxel is filled
}

TEST(NonzeroCrop, AllZeroKeepsTheWholeImage) {
  ImageGrid g(1, {3, 4, 5});
  const NonzeroCrop r = cropToNonzero(g);
  EXPECT_EQ(r.bbox.size(), (Shape3{3, 4, 5}));
}

class Normalization : public ::testing::TestWithParam<const char*> {};

TEST_P(Normalization, MatchesNnunet) {
  const std::string name = GetParam();
  const auto& c = arrayCase(name);
  auto v = c["input"].get<std::vector<float>>();
  std::vector<std::uint8_t> mask(v.size(), 1);
  bool masked = false;
  if (c.contains("mask")) {
    mask = c["mask"].get<std::vector<std::uint8_t>>();
    masked = true;
  }
  ctd::nn::IntensityProperties props;
  props.mean = 35.5;
  props.std = 310.0;
  props.percentile_00_5 = -980.0;
  props.percentile_99_5 = 1200.0;
  const std::string scheme = name.substr(0, name.find('_'));
  normalizeChannel(v.data(), v.size(), scheme, masked, mask, &props);
  const auto expected = c["expected"].get<std::vector<float>>();
  double d = 0;
  for (std::size_t i = 0; i < v.size(); ++i) d = std::max(d, static_cast<double>(std::abs(v[i] - expected[i])));
  std::printf("[ %s ] max |delta| = %.3g\n", GetParam(), d);
  EXPECT_LT(d, 2e-6);
}

INSTANTIATE_TEST_SUITE_P(Schemes, Normalization,
                         ::testing::Values("CTNormalization", "ZScoreNormalization", "ZScoreNormalization_masked",
                                           "RescaleTo01Normalization"));

TEST(Normalization, UnknownSchemeIsAnError) {
  std::vector<float> v{1, 2};
  EXPECT_THROW(normalizeChannel(v.data(), v.size(), "MyNorm", false, {}, nullptr), ctd::Error);
  EXPECT_THROW(normalizeChannel(v.data(), v.size(), "CTNormalization", false, {}, nullptr), ctd::Error);
  std::vector<float> rgb{-1, 300};
  EXPECT_THROW(normalizeChannel(rgb.data(), rgb.size(), "RGBTo01Normalization", false, {}, nullptr), ctd::Error);
}
