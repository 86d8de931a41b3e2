// nifti2dicom: NIfTI HU written back through both geometries.
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIO.h>
#include <itkRegionOfInterestImageFilter.h>

#include <cstdlib>

#include "WriteTestSupport.h"
#include "core/Error.h"
#include "synth/SyntheticSeries.h"
#include "volume/NiftiIO.h"
#include "write/NiftiToDicom.h"

#include <unistd.h>

namespace ctd::test {
namespace {

using FloatImage = itk::Image<float, 3>;

const fs::path kPhilips = fs::path(CTD_SHARED_DATA) / "ct-phantom-philips-multiseries/S21570/S2010";

// dcm2niix's own conversion of the Philips series (made once per test run).
fs::path dcm2niixPhilips() {
  static const fs::path nii = [] {
    // Per process: ctest runs tests of this file in parallel processes.
    const fs::path dir = freshDir("nifti-dcm2niix-" + std::to_string(::getpid()));
    const std::string cmd = "dcm2niix -z y -f philips -o '" + dir.string() + "' '" + kPhilips.string() + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("dcm2niix failed");
    return dir / "philips.nii.gz";
  }();
  return nii;
}

FloatImage::Pointer readImage(const fs::path& file) {
  auto reader = itk::ImageFileReader<FloatImage>::New();
  reader->SetImageIO(itk::NiftiImageIO::New());
  reader->SetFileName(file.string());
  reader->Update();
  return reader->GetOutput();
}

// Drops `low` slices at the start and `high` at the end of the NIfTI's third axis.
fs::path cropSlices(const fs::path& nii, std::size_t low, std::size_t high, const fs::path& out) {
  FloatImage::Pointer img = readImage(nii);
  FloatImage::RegionType region = img->GetLargestPossibleRegion();
  region.SetIndex(2, static_cast<itk::IndexValueType>(low));
  region.SetSize(2, region.GetSize(2) - low - high);
  auto roi = itk::RegionOfInterestImageFilter<FloatImage, FloatImage>::New();
  roi->SetInput(img);
  roi->SetRegionOfInterest(region);
  auto writer = itk::ImageFileWriter<FloatImage>::New();
  writer->SetImageIO(itk::NiftiImageIO::New());
  writer->SetInput(roi->GetOutput());
  writer->SetFileName(out.string());
  writer->Update();
  return out;
}

// Which DICOM files' centre voxel falls outside the (ITK-read) NIfTI: computed
// with ITK's own physical-point mapping, independently of the code under test.
std::set<std::string> uncoveredByItk(const fs::path& nii) {
  FloatImage::Pointer img = readImage(nii);
  const auto size = img->GetLargestPossibleRegion().GetSize();
  const CaseInventory inv = inventoryOf(kPhilips);
  std::set<std::string> out;
  for (const SliceRef& s : onlyStack(inv).slices) {
    const DicomInstance& inst = inv.instances[s.instance];
    const FrameInfo& f = inst.frames[s.frame];
    const auto& o = *f.orientation;
    FloatImage::PointType p;
    for (int c = 0; c < 3; ++c)  // ITK physical space is LPS like DICOM
      p[c] = (*f.position)[c] + (inst.columns / 2) * (*f.pixel_spacing)[1] * o[c] +
             (inst.rows / 2) * (*f.pixel_spacing)[0] * o[3 + c];
    const auto idx = img->TransformPhysicalPointToContinuousIndex<double>(p);
    const double k = std::round(idx[2]);
    if (k < 0 || k > static_cast<double>(size[2] - 1)) out.insert(inst.relative.string());
  }
  return out;
}

TEST(NiftiToDicom, Dcm2niixConversionMapsBackWithZeroChanges) {
  const auto hashes = hashTree(kPhilips);
  NiftiToDicomOptions opt;
  opt.nifti = dcm2niixPhilips();
  opt.ref = kPhilips;
  opt.out_dir = freshDir("nifti-roundtrip");
  const RewriteResult r = niftiToDicom(opt);
  EXPECT_EQ(r.changed_voxels, 0u);
  EXPECT_TRUE(r.not_covered.empty());
  EXPECT_EQ(r.files.size(), 28u);
  for (const FileOutcome& f : r.files) EXPECT_TRUE(sameBytes(f.source, f.output)) << f.source;
  EXPECT_EQ(hashTree(kPhilips), hashes);
}

TEST(NiftiToDicom, CroppedNiftiReportsExactlyTheCutSlices) {
  const fs::path dir = freshDir("nifti-cropped");
  const fs::path cropped = cropSlices(dcm2niixPhilips(), 3, 2, dir / "cropped.nii");
  const std::set<std::string> expected = uncoveredByItk(cropped);
  ASSERT_EQ(expected.size(), 5u);

  NiftiToDicomOptions opt;
  opt.nifti = cropped;
  opt.ref = kPhilips;
  opt.out_dir = dir / "out";
  const RewriteResult r = niftiToDicom(opt);
  EXPECT_EQ(std::set<std::string>(r.not_covered.begin(), r.not_covered.end()), expected);
  EXPECT_EQ(r.not_covered.size(), 5u);
  EXPECT_EQ(r.changed_voxels, 0u);
  EXPECT_EQ(r.files.size(), 28u);  // uncovered slices are still written, unchanged

  opt.strict = true;
  opt.out_dir = dir / "strict";
  EXPECT_THROW(niftiToDicom(opt), Error);
  EXPECT_TRUE(filesBelow(opt.out_dir).empty());
}

TEST(NiftiToDicom, EditedNiftiChangesExactlyTheEditedVoxels) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(30, 26, 8);
  spec.shuffle_file_names = true;
  spec.pixel_signed = false;
  const fs::path dir = freshDir("nifti-edited");
  synth::writeSeries(spec, dir / "in");
  const CaseInventory inv = inventoryOf(dir / "in");
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.1, 0.2, 0.25}, {0.5, 0.9, 0.75});
  Volume edited = spec.volume;
  for (std::size_t n = 0; n < mask.data.size(); ++n)
    if (mask.data[n]) edited.hu[n] = 40.0f;
  writeNifti(edited, dir / "edited.nii.gz");

  NiftiToDicomOptions opt;
  opt.nifti = dir / "edited.nii.gz";
  opt.ref = dir / "in";
  opt.out_dir = dir / "out";
  const RewriteResult r = niftiToDicom(opt);
  EXPECT_TRUE(r.not_covered.empty());
  EXPECT_GT(r.changed_voxels, 0u);
  EXPECT_EQ(maskMismatches(inv, stack, mask, 40.0, opt.out_dir), 0u);
}

TEST(NiftiToDicom, ReferenceWithSeveralStacksIsAnError) {
  const fs::path dir = freshDir("nifti-two-stacks");
  synth::SeriesSpec a;
  a.volume = patternVolume(16, 16, 4);
  a.series_number = 1;
  synth::SeriesSpec b = a;
  b.series_number = 2;
  b.study_uid = "1.2.3.4";
  a.study_uid = "1.2.3.4";
  synth::writeSeries(a, dir / "case" / "a");
  synth::writeSeries(b, dir / "case" / "b");
  writeNifti(a.volume, dir / "a.nii.gz");
  NiftiToDicomOptions opt;
  opt.nifti = dir / "a.nii.gz";
  opt.ref = dir / "case";
  opt.out_dir = dir / "out";
  try {
    niftiToDicom(opt);
    ADD_FAILURE() << "expected ctd::Error";
  } catch (const Error& e) {
    // One study in two series folders is one case with two stacks: both named.
    EXPECT_NE(std::string(e.what()).find("2 CT stacks"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(filesBelow(opt.out_dir).empty());
}

}  // namespace
}  // namespace ctd::test
