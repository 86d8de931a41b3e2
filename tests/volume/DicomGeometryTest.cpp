// Our Volume and our NIfTI against the DICOM per-slice formula (GDCM read
// independently) on real data, and against dcm2niix on untilted series.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkNiftiImageIO.h>

#include "DicomOracle.h"
#include "VolumeFixtures.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "synth/SyntheticSeries.h"
#include "volume/GridResampler.h"
#include "volume/NiftiIO.h"
#include "volume/StackGeometry.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;
using testing::OracleSlice;
using testing::readOracleSlice;
using testing::scratchDir;

const fs::path kShared = CTD_SHARED_DATA;
using ItkImage = itk::Image<float, 3>;

struct LoadedStack {
  CaseInventory inv;
  std::size_t stack = 0;
  Volume volume;
  std::vector<OracleSlice> oracle;  // GDCM's view of each slice, in the Volume's slice order
};

// The largest CT stack of a case folder, with its slices read by the oracle.
LoadedStack loadLargestStack(const fs::path& dir) {
  LoadedStack s;
  const Discovery d = discoverCases(dir);
  EXPECT_EQ(d.cases.size(), 1u);
  s.inv = assembleCase(d.cases.at(0));
  EXPECT_FALSE(s.inv.stacks.empty());
  for (std::size_t i = 0; i < s.inv.stacks.size(); ++i)
    if (s.inv.stacks[i].slices.size() > s.inv.stacks[s.stack].slices.size()) s.stack = i;
  const SeriesStack& st = s.inv.stacks.at(s.stack);
  s.volume = loadVolume(s.inv, st);
  for (const SliceRef& ref : st.slices) s.oracle.push_back(readOracleSlice(s.inv.instances.at(ref.instance).path));
  return s;
}

ItkImage::Pointer readItk(const fs::path& file) {
  auto r = itk::ImageFileReader<ItkImage>::New();
  r->SetImageIO(itk::NiftiImageIO::New());
  r->SetFileName(file.string());
  r->Update();
  return r->GetOutput();
}

Vec3 toVec(const ItkImage::PointType& p) { return {p[0], p[1], p[2]}; }

// The independent trilinear oracle: project p on the normal, find the two
// DICOM slices around it, bilinear in each with the per-slice formula.
// Returns false when p is outside (or within `margin` voxels of the edge).
bool oracleSample(const std::vector<OracleSlice>& sl, const Vec3& p, double margin, double& out) {
  const Vec3 n = normalized(cross(sl[0].x, sl[0].y));
  const double w = dot(p, n);
  std::size_t s = 0;
  while (s + 2 < sl.size() && dot(sl[s + 1].ipp, n) <= w) ++s;
  const double w0 = dot(sl[s].ipp, n), w1 = dot(sl[s + 1].ipp, n);
  if (w < w0 - 1e-6 || w > w1 + 1e-6) return false;
  const double t = (w - w0) / (w1 - w0);
  double v[2];
  for (int q = 0; q < 2; ++q) {
    const OracleSlice& o = sl[s + q];
    const double col = dot(p - o.ipp, o.x) / o.d_col, row = dot(p - o.ipp, o.y) / o.d_row;
    if (col < margin || row < margin || col > double(o.cols - 1) - margin || row > double(o.rows - 1) - margin)
      return false;
    const auto c0 = std::min(std::size_t(col), o.cols - 2), r0 = std::min(std::size_t(row), o.rows - 2);
    const double fc = col - double(c0), fr = row - double(r0);
    auto px = [&](std::size_t r, std::size_t c) { return o.hu[r * o.cols + c]; };
    const double top = px(r0, c0) + fc * (px(r0, c0 + 1) - px(r0, c0));
    const double bot = px(r0 + 1, c0) + fc * (px(r0 + 1, c0 + 1) - px(r0 + 1, c0));
    v[q] = top + fr * (bot - top);
  }
  out = (1 - t) * v[0] + t * v[1];
  return true;
}

TEST(DicomGeometry, GeTiltVolumeVoxelsSitWhereTheDicomFormulaPutsThem) {
  const LoadedStack s = loadLargestStack(kShared / "ct-head-ge-tilt");
  const Volume& v = s.volume;
  ASSERT_EQ(v.nz, 28u);
  ASSERT_EQ(v.nx, 512u);
  ASSERT_EQ(v.ny, 512u);
  ASSERT_EQ(s.oracle.size(), v.nz);
  double worst_pos = 0, worst_hu = 0;
  for (std::size_t k = 0; k < v.nz; ++k) {
    const OracleSlice& o = s.oracle[k];
    ASSERT_EQ(o.rows, v.ny);
    ASSERT_EQ(o.cols, v.nx);
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const Vec3 d = v.world(double(i), double(j), k) - o.position(double(j), double(i));
        worst_pos = std::max(worst_pos, norm(d));
        worst_hu = std::max(worst_hu, std::abs(double(v.at(i, j, k)) - o.hu[j * o.cols + i]));
      }
  }
  EXPECT_LT(worst_pos, 1e-3);  // mm, over all 7.3 million voxels
  EXPECT_EQ(worst_hu, 0.0);
  const StackGeometry g = analyzeStack(v);
  EXPECT_TRUE(g.sheared);
  EXPECT_NEAR(g.tilt_deg, 18.5, 0.1);
  EXPECT_FALSE(g.uniform);
  EXPECT_NEAR(g.min_gap, 1.08, 0.02);
}

TEST(DicomGeometry, GeTiltNiftiVoxelsHoldTheDicomValuesAtTheirAffinePositions) {
  const LoadedStack s = loadLargestStack(kShared / "ct-head-ge-tilt");
  const fs::path file = scratchDir("ge-nifti") / "ge.nii";  // .nii.gz is covered by NiftiIO tests; ITK gzip is slow
  ASSERT_TRUE(writeNifti(s.volume, file));
  const auto img = readItk(file);
  const auto size = img->GetLargestPossibleRegion().GetSize();
  std::mt19937 rng(42);
  std::size_t checked = 0, wrong = 0, outside_ok = 0;
  for (int n = 0; n < 20000; ++n) {
    ItkImage::IndexType idx;
    for (int a = 0; a < 3; ++a) idx[a] = static_cast<long>(rng() % size[a]);
    ItkImage::PointType p;
    img->TransformIndexToPhysicalPoint(idx, p);  // ITK's reading of the file's affine (LPS)
    const float got = img->GetPixel(idx);
    double want = 0;
    if (oracleSample(s.oracle, toVec(p), 1e-3, want)) {
      ++checked;
      wrong += std::abs(got - std::round(want)) > 1.0;
    } else if (!oracleSample(s.oracle, toVec(p), -1.0, want)) {
      outside_ok += got == -1024.0f;  // clearly outside the stack: our outside value
    }
  }
  EXPECT_GT(checked, 5000u);
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(outside_ok, 100u);
}

// Runs dcm2niix on `dicom_dir` and returns the single NIfTI it wrote.
fs::path runDcm2niix(const fs::path& dicom_dir, const fs::path& out_dir) {
  const std::string cmd = "dcm2niix -z y -f %s -o '" + out_dir.string() + "' '" + dicom_dir.string() +
                          "' > '" + (out_dir / "dcm2niix.log").string() + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(out_dir))
    if (e.path().string().ends_with(".nii.gz")) found.push_back(e.path());
  EXPECT_EQ(found.size(), 1u) << "dcm2niix wrote " << found.size() << " NIfTI files";
  return found.empty() ? fs::path{} : found[0];
}

// Every voxel of `ours` must land on a voxel centre of `theirs` (through the two
// files' own affines) and hold the same value; both grids must be the same set.
void expectSameWorldImage(const fs::path& ours_file, const fs::path& theirs_file) {
  const auto ours = readItk(ours_file), theirs = readItk(theirs_file);
  const auto so = ours->GetLargestPossibleRegion().GetSize(), st = theirs->GetLargestPossibleRegion().GetSize();
  ASSERT_EQ(so[0] * so[1] * so[2], st[0] * st[1] * st[2]);
  double worst_mm = 0;
  std::size_t differ = 0, outside = 0;
  ItkImage::IndexType idx;
  for (idx[2] = 0; idx[2] < long(so[2]); ++idx[2])
    for (idx[1] = 0; idx[1] < long(so[1]); ++idx[1])
      for (idx[0] = 0; idx[0] < long(so[0]); ++idx[0]) {
        ItkImage::PointType p;
        ours->TransformIndexToPhysicalPoint(idx, p);
        itk::ContinuousIndex<double, 3> ci;
        theirs->TransformPhysicalPointToContinuousIndex(p, ci);
        ItkImage::IndexType ti;
        for (int a = 0; a < 3; ++a) ti[a] = std::lround(ci[a]);
        if (!theirs->GetLargestPossibleRegion().IsInside(ti)) {
          ++outside;
          continue;
        }
        ItkImage::PointType q;
        theirs->TransformIndexToPhysicalPoint(ti, q);
        worst_mm = std::max(worst_mm, p.EuclideanDistanceTo(q));
        differ += ours->GetPixel(idx) != theirs->GetPixel(ti);
      }
  EXPECT_EQ(outside, 0u);
  EXPECT_LT(worst_mm, 1e-3);
  EXPECT_EQ(differ, 0u);
}

TEST(DicomGeometry, PhilipsUntiltedSeriesMatchesDcm2niixInWorldSpace) {
  const fs::path series = kShared / "ct-phantom-philips-multiseries" / "S21570" / "S2010";
  const LoadedStack s = loadLargestStack(series);
  ASSERT_EQ(s.volume.nz, 28u);
  EXPECT_TRUE(analyzeStack(s.volume).regular());
  const fs::path dir = scratchDir("philips-dcm2niix");
  fs::create_directories(dir / "theirs");
  ASSERT_FALSE(writeNifti(s.volume, dir / "ours.nii.gz"));
  const fs::path theirs = runDcm2niix(series, dir / "theirs");
  ASSERT_FALSE(theirs.empty());
  expectSameWorldImage(dir / "ours.nii.gz", theirs);
}

TEST(DicomGeometry, SyntheticObliqueSeriesMatchesDcm2niixAndTheSourceVolume) {
  // Untilted, oblique, non-square pixels, shuffled files: the stack only dcm2niix
  // and we must agree on.
  Volume v = testing::makeStack(40, 32, testing::evenOffsets(12, 2.5), 0, {0.96, 0.28, 0}, {-0.0784, 0.2688, -0.96},
                                0.75, 0.9, {-60.25, 40.5, 110.0});
  testing::fillRandom(v, 23, -1024, 1500);
  const fs::path dir = scratchDir("synth-dcm2niix");
  synth::SeriesSpec spec;
  spec.volume = v;
  spec.shuffle_file_names = true;
  spec.lying_instance_numbers = true;
  synth::writeSeries(spec, dir / "dicom");

  const LoadedStack s = loadLargestStack(dir / "dicom");
  ASSERT_EQ(s.volume.nz, v.nz);
  EXPECT_EQ(s.volume.hu, v.hu);
  for (std::size_t k = 0; k < v.nz; ++k)
    for (int r = 0; r < 3; ++r) EXPECT_NEAR(s.volume.slice_pos[k][r], v.slice_pos[k][r], 1e-4);

  fs::create_directories(dir / "theirs");
  ASSERT_FALSE(writeNifti(s.volume, dir / "ours.nii.gz"));
  const fs::path theirs = runDcm2niix(dir / "dicom", dir / "theirs");
  ASSERT_FALSE(theirs.empty());
  expectSameWorldImage(dir / "ours.nii.gz", theirs);
}

}  // namespace
}  // namespace ctd
