// For tests/pipeline/ (owned by the pipeline engineer): dicom2nifti end to end.
#include "pipeline/Dicom2Nifti.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "volume/GridResampler.h"
#include "volume/NiftiIO.h"
#include "volume/StackGeometry.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

fs::path freshDir(const std::string& name) {
  const fs::path d = fs::path(CTD_BINARY_DIR) / "test-scratch" / "dicom2nifti" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(Dicom2Nifti, GeTiltHeadIsResampledOntoItsRegularGrid) {
  const fs::path out = freshDir("ge");
  const auto written = convertCaseToNifti(fs::path(CTD_SHARED_DATA) / "ct-head-ge-tilt", out);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_TRUE(written[0].resampled);
  EXPECT_EQ(written[0].file, out / (written[0].series + ".nii.gz"));
  ASSERT_TRUE(fs::exists(written[0].file));
  const Volume v = readNifti(written[0].file);
  EXPECT_TRUE(analyzeStack(v).regular());
  EXPECT_EQ(v.nx, 512u);
  EXPECT_GT(v.ny, 512u);  // widened by the 18.5 degree shear
  EXPECT_NEAR(norm(v.slice_pos[1] - v.slice_pos[0]), 1.08, 0.02);  // the smallest gap
}

TEST(Dicom2Nifti, PhilipsStudyGivesOneUnresampledFilePerCtStack) {
  const fs::path out = freshDir("philips");
  const auto written = convertCaseToNifti(fs::path(CTD_SHARED_DATA) / "ct-phantom-philips-multiseries", out, ".nii");
  ASSERT_EQ(written.size(), 1u);  // the localizer, secondary captures and DICOMDIRs are not CT stacks
  EXPECT_FALSE(written[0].resampled);
  EXPECT_EQ(written[0].file.extension(), ".nii");
  const Volume v = readNifti(written[0].file);
  EXPECT_EQ(v.nz, 28u);
  EXPECT_NEAR(v.col_spacing, 0.451171875, 1e-5);
}

TEST(Dicom2Nifti, RejectsUnknownExtension) {
  EXPECT_THROW(convertCaseToNifti(fs::path(CTD_SHARED_DATA) / "ct-head-ge-tilt", freshDir("ext"), ".img"),
               std::runtime_error);
}

}  // namespace
}  // namespace ctd
