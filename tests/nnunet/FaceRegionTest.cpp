// --roi face: only nnU-Net's own tiles that overlap the face region are evaluated. Inside the
// region the result must be the whole-image result (same tiles, same order, same float16 sums);
// outside it is background. Checked on the tile mechanics with a stand-in network, on a fixture
// model through NnunetPredictor, and on the real Slicer head through NnunetSegmenter and the CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "NnunetFixtures.h"
#include "segment/GeometricSegmenter.h"
#include "segment/nnunet/FaceRegion.h"
#include "segment/nnunet/NnunetSegmenter.h"
#include "segment/nnunet/SlidingWindowPredictor.h"
#include "volume/NiftiIO.h"

using namespace ctd;
using namespace ctd::nnunet;
using namespace ctd::nnunet::testing;
using ctd::nn::Tensor;
namespace fs = std::filesystem;

namespace {

ImageGrid wavy(Shape3 s) {
  ImageGrid g(1, s);
  for (std::size_t i = 0; i < g.data.size(); ++i) g.data[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 3.0);
  return g;
}

// Not voxel-wise: every output depends on the whole patch (its mean) and on the position in the
// patch, so a voxel's result depends on which tiles cover it, as with a real network.
PatchNetwork contextual(int K, int* calls) {
  return [K, calls](const Tensor& x) {
    ++*calls;
    std::vector<std::int64_t> s = x.shape;
    s[1] = K;
    Tensor y(s);
    const std::size_t n = x.numel();
    double mean = 0;
    for (float v : x.data) mean += v;
    mean /= static_cast<double>(n);
    for (int k = 0; k < K; ++k)
      for (std::size_t i = 0; i < n; ++i)
        y.data[static_cast<std::size_t>(k) * n + i] =
            static_cast<float>(k + 1) * x.data[i] + static_cast<float>(mean) * static_cast<float>(i % 7) - static_cast<float>(k);
    return y;
  };
}

bool inBox(const Box3& b, std::int64_t z, std::int64_t y, std::int64_t x) {
  return z >= b.begin[0] && z < b.end[0] && y >= b.begin[1] && y < b.end[1] && x >= b.begin[2] && x < b.end[2];
}

int run(const std::string& cmd) {
  const int rc = std::system((cmd + " > /dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

fs::path scratch(const std::string& name) {
  const fs::path d = fs::path(CTD_BINARY_DIR) / "test-scratch" / "nnunet-roi" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The Slicer head (whole face in view, 64x64x93) as NIfTI, through the CLI's converter, once.
const fs::path& slicerHeadNifti() {
  static const fs::path file = [] {
    // Per process: ctest runs the tests of this file in parallel processes, and a shared folder
    // was emptied by one while another read it.
    const fs::path d = scratch("slicer-nifti-" + std::to_string(::getpid()));
    const std::string cmd = std::string(CTD_CLI) + " -q convert dicom2nifti -i " + CTD_SHARED_DATA +
                            "/ct-head-fullface-slicer/dicom -o " + d.string();
    if (run(cmd) != 0) throw std::runtime_error("dicom2nifti failed: " + cmd);
    for (const auto& e : fs::directory_iterator(d))
      if (e.path().string().ends_with(".nii.gz")) return e.path();
    throw std::runtime_error("no NIfTI written by " + cmd);
  }();
  return file;
}

// The Slicer head in HU: its header says intercept 0 but the values are HU + 1024 (see its README).
Volume slicerHeadHu() {
  Volume v = readNifti(slicerHeadNifti());
  for (float& x : v.hu) x -= 1024.0f;
  return v;
}

PredictorOptions oneThread() {
  PredictorOptions o;
  o.threads = 1;
  return o;
}

// Step 1 (tiles side by side, not overlapping): 8x fewer tiles for the whole-head runs; what the
// region does is the same for any step.
PredictorOptions oneThreadStepOne() {
  PredictorOptions o = oneThread();
  o.step_size = 1.0;
  return o;
}

}  // namespace

TEST(FaceRoi, OnlyTilesOverlappingTheRegionAreKept) {
  const Shape3 shape{40, 70, 75};
  const std::vector<std::int64_t> patch{16, 32, 32};
  const Box3 roi{{10, 5, 50}, {14, 30, 75}};
  SlidingWindowOptions o;
  SlidingWindowPredictor full(patch, 2, o);
  o.roi = roi;
  SlidingWindowPredictor part(patch, 2, o);
  // Brute force over nnU-Net's grid.
  const auto steps = computeSteps({shape[0], shape[1], shape[2]}, patch, 0.5);
  std::size_t expected = 0;
  for (auto z : steps[0])
    for (auto y : steps[1])
      for (auto x : steps[2])
        expected += z < roi.end[0] && z + patch[0] > roi.begin[0] && y < roi.end[1] && y + patch[1] > roi.begin[1] &&
                    x < roi.end[2] && x + patch[2] > roi.begin[2];
  EXPECT_EQ(full.tileCount(shape), steps[0].size() * steps[1].size() * steps[2].size());
  EXPECT_EQ(part.tileCount(shape), expected);
  EXPECT_LT(expected, full.tileCount(shape));
  EXPECT_GT(expected, 0u);
  // The whole image as region: every tile; an empty region: none.
  o.roi = Box3{{0, 0, 0}, shape};
  EXPECT_EQ(SlidingWindowPredictor(patch, 2, o).tileCount(shape), full.tileCount(shape));
  o.roi = Box3{{3, 3, 3}, {3, 9, 9}};
  EXPECT_EQ(SlidingWindowPredictor(patch, 2, o).tileCount(shape), 0u);
}

TEST(FaceRoi, LogitsInsideTheRegionAreBitIdenticalAndBackgroundOutside) {
  // float16 accumulators, as the product runs; the image is padded along z (smaller than the patch).
  const ImageGrid img = wavy({12, 70, 75});
  const std::vector<std::int64_t> patch{16, 32, 32};
  const Box3 roi{{2, 20, 33}, {9, 41, 60}};
  SlidingWindowOptions o;
  int calls_full = 0, calls_roi = 0;
  const ImageGrid full = SlidingWindowPredictor(patch, 3, o).predictLogits(img, {contextual(3, &calls_full)});
  o.roi = roi;
  const SlidingWindowPredictor part(patch, 3, o);
  const ImageGrid got = part.predictLogits(img, {contextual(3, &calls_roi)});
  EXPECT_EQ(static_cast<std::size_t>(calls_roi), part.tileCount(img.shape));
  EXPECT_LT(calls_roi, calls_full);
  ASSERT_EQ(got.shape, img.shape);
  std::size_t inside = 0, differ = 0, not_background = 0;
  for (int k = 0; k < 3; ++k)
    for (std::int64_t z = 0; z < img.shape[0]; ++z)
      for (std::int64_t y = 0; y < img.shape[1]; ++y)
        for (std::int64_t x = 0; x < img.shape[2]; ++x) {
          const std::size_t i = static_cast<std::size_t>((z * img.shape[1] + y) * img.shape[2] + x);
          const float a = got.channel(k)[i], b = full.channel(k)[i];
          if (inBox(roi, z, y, x)) {
            ++inside;
            differ += std::memcmp(&a, &b, sizeof a) != 0;
          } else {
            not_background += a != (k == 0 ? 0.0f : -20.0f);
          }
        }
  EXPECT_EQ(inside, 3u * 7u * 21u * 27u);
  EXPECT_EQ(differ, 0u);
  EXPECT_EQ(not_background, 0u);
}

namespace {

// The plain3d fixture model on a crop of the GE head, with and without a region.
void expectRegionKept(const Spacing3& spacing, bool resampled) {
  NnunetPredictor pred(fixtureDir() / "plain3d", oneThread());
  const auto raw = readGz<std::int16_t>(fixtureDir() / "input_low.i16.gz");
  const Shape3 shape{20, 48, 48};
  ImageGrid image(1, shape);
  ASSERT_EQ(raw.size(), image.data.size());
  for (std::size_t i = 0; i < raw.size(); ++i) image.data[i] = raw[i];
  const Box3 roi{{0, 34, 0}, {20, 48, 10}};  // on the plan's grid: tiles y = 16 and x = 0 only
  std::pair<std::size_t, std::size_t> tiles_full{0, 0}, tiles_roi{0, 0};
  const ExportedPrediction full = pred.predict(image, spacing, true, {}, std::nullopt, &tiles_full);
  const ExportedPrediction got = pred.predict(image, spacing, true, {}, roi, &tiles_roi);
  EXPECT_EQ(tiles_full.first, tiles_full.second);
  EXPECT_EQ(tiles_roi.second, tiles_full.second);
  // Resampled, the region is widened by the spline's reach: on this small image that is every tile.
  if (resampled)
    EXPECT_LE(tiles_roi.first, tiles_full.first);
  else
    EXPECT_LT(tiles_roi.first, tiles_full.first);
  const std::size_t n = got.labels.size();
  double max_d = 0;
  std::size_t labels_differ = 0, face_outside = 0, face_inside = 0, prob_outside = 0;
  for (std::int64_t z = 0; z < shape[0]; ++z)
    for (std::int64_t y = 0; y < shape[1]; ++y)
      for (std::int64_t x = 0; x < shape[2]; ++x) {
        const std::size_t i = static_cast<std::size_t>((z * shape[1] + y) * shape[2] + x);
        if (inBox(roi, z, y, x)) {
          for (std::size_t k = 0; k < 2; ++k)
            max_d = std::max(max_d, static_cast<double>(std::abs(got.probabilities.data[k * n + i] -
                                                                  full.probabilities.data[k * n + i])));
          labels_differ += got.labels[i] != full.labels[i];
          face_inside += full.labels[i] == 1;
        } else {
          face_outside += got.labels[i] != 0;
          prob_outside += got.probabilities.data[i] != 1.0f;
        }
      }
  std::printf("  %s: %zu of %zu tiles; inside the region max |dP| %.3g, %zu face voxels\n",
              resampled ? "resampled" : "on the plan's spacing", tiles_roi.first, tiles_full.first, max_d, face_inside);
  EXPECT_GT(face_inside, 0u);  // the comparison is not vacuous
  if (resampled)
    EXPECT_LE(max_d, 1e-5);  // the export's spline still sees the (far) background outside
  else
    EXPECT_EQ(max_d, 0.0);
  EXPECT_EQ(labels_differ, 0u);
  EXPECT_EQ(face_outside, 0u);
  EXPECT_EQ(prob_outside, 0u);
}

}  // namespace

TEST(FaceRoi, PredictorKeepsProbabilitiesInsideTheRegion) {
  expectRegionKept({3.0, 2.2, 2.2}, false);      // the plan's spacing: no resampling
  expectRegionKept({4.0, 1.9531248, 1.9531248}, true);  // the fixture's: 4 -> 3 mm, 1.95 -> 2.2 mm
}

TEST(FaceRoi, RegionOnARealHeadHoldsTheGeometricFace) {
  const Volume v = slicerHeadHu();
  const FaceRegion r = findFaceRegion(v, 20);
  std::printf("  %s\n", r.note.c_str());
  ASSERT_TRUE(r.found) << r.note;
  const FaceSegmentation face = GeometricSegmenter().segment(v);
  ASSERT_GT(face.mask.count(), 0u);
  std::size_t outside = 0;
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i)
        outside += face.mask.at(i, j, k) && !inBox(r.box, static_cast<std::int64_t>(k), static_cast<std::int64_t>(j),
                                                    static_cast<std::int64_t>(i));
  EXPECT_EQ(outside, 0u);
  // Smaller than the head: the back of the head is not in it.
  EXPECT_LT(ImageGrid::voxels(r.box.size()), v.voxelCount() * 3 / 4);
  // Zero margin: the geometric mask's own box, inside the wider one.
  const FaceRegion tight = findFaceRegion(v, 0);
  for (int a = 0; a < 3; ++a) {
    EXPECT_LE(r.box.begin[a], tight.box.begin[a]);
    EXPECT_GE(r.box.end[a], tight.box.end[a]);
  }
}

TEST(FaceRoi, NoHeadMeansNoRegion) {
  const Volume v = readNifti(fs::path(CTD_SHARED_DATA) / "ct-no-head" / "totalseg_example_ct_abdomen.nii.gz");
  const FaceRegion r = findFaceRegion(v, 40);
  EXPECT_FALSE(r.found);
  EXPECT_NE(r.note.find("no face"), std::string::npos) << r.note;
}

TEST(FaceRoi, SegmenterMaskEqualsTheWholeImageOneInsideTheRegion) {
  const Volume v = slicerHeadHu();
  NnunetSegmenter all(fixtureDir() / "plain3d", oneThreadStepOne(), "plain3d");
  NnunetSegmenter face(fixtureDir() / "plain3d", oneThreadStepOne(), "plain3d", FaceRegionOptions{true, 20});
  const FaceSegmentation a = all.segment(v), f = face.segment(v);
  std::printf("  %s\n", f.note.c_str());
  EXPECT_NE(f.note.find("--roi face: face region"), std::string::npos) << f.note;
  const FaceRegion r = findFaceRegion(v, 20);
  ASSERT_TRUE(r.found);
  std::size_t differ_inside = 0, face_outside = 0, face_inside = 0;
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        if (inBox(r.box, static_cast<std::int64_t>(k), static_cast<std::int64_t>(j), static_cast<std::int64_t>(i))) {
          differ_inside += a.mask.at(i, j, k) != f.mask.at(i, j, k);
          face_inside += a.mask.at(i, j, k);
        } else {
          face_outside += f.mask.at(i, j, k);
        }
      }
  EXPECT_GT(face_inside, 0u);
  EXPECT_EQ(differ_inside, 0u);
  EXPECT_EQ(face_outside, 0u);
}

TEST(FaceRoi, CliFlag) {
  const fs::path d = scratch("cli");
  const std::string model = (fixtureDir() / "plain3d").string();
  const std::string base = std::string(CTD_CLI) + " -q deface-nifti -i " + slicerHeadNifti().string() + " --model " +
                           model + " --threads 1 --step-size 1 -o ";
  ASSERT_EQ(run(base + (d / "all").string()), 0);
  ASSERT_EQ(run(base + (d / "face").string() + " --roi face --roi-margin 20"), 0);
  EXPECT_EQ(run(base + (d / "bad").string() + " --roi nose"), 2);
  EXPECT_EQ(run(base + (d / "bad").string() + " --roi face --roi-margin -3"), 2);
  const std::string mask = slicerHeadNifti().filename().string().substr(0, slicerHeadNifti().filename().string().size() - 7) + "_mask.nii.gz";
  const Volume ma = readNifti(d / "all" / mask), mf = readNifti(d / "face" / mask);
  ASSERT_EQ(ma.hu.size(), mf.hu.size());
  std::size_t fa = 0, ff = 0, extra = 0;
  for (std::size_t i = 0; i < ma.hu.size(); ++i) {
    fa += ma.hu[i] > 0;
    ff += mf.hu[i] > 0;
    extra += mf.hu[i] > 0 && !(ma.hu[i] > 0);
  }
  std::printf("  face voxels: --roi all %zu, --roi face %zu\n", fa, ff);
  EXPECT_EQ(extra, 0u);  // the region only ever removes labels the whole-image run has outside it
  EXPECT_GT(ff, 0u);
  EXPECT_LT(ff, fa);
}
