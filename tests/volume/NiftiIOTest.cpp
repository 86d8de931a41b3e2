#include "volume/NiftiIO.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIO.h>

#include "VolumeFixtures.h"
#include "core/Error.h"
#include "volume/GridResampler.h"
#include "volume/StackGeometry.h"

namespace ctd {
namespace {

using testing::evenOffsets;
using testing::expectSameGeometry;
using testing::fill;
using testing::fillRandom;
using testing::linearField;
using testing::makeStack;
using testing::scratchDir;

TEST(NiftiIO, RegularObliqueStackRoundTripsFloat32Exactly) {
  Volume v = makeStack(21, 17, evenOffsets(9, 1.25), 0, {0.8, 0.6, 0}, {-0.36, 0.48, 0.8});
  fillRandom(v, 3);
  v.hu[5] = 12.375f;  // fractions survive Float32
  const auto file = scratchDir("float32") / "v.nii.gz";
  EXPECT_FALSE(writeNifti(v, file, NiftiPixel::Float32));
  const Volume r = readNifti(file);
  expectSameGeometry(r, v, 1e-4);  // the header stores single precision
  EXPECT_EQ(r.hu, v.hu);
  // A real gzip stream, and no temporary file left beside it.
  std::ifstream in(file, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  EXPECT_EQ(magic[0], 0x1f);
  EXPECT_EQ(magic[1], 0x8b);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(file.parent_path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(NiftiIO, Int16RoundsHalfAwayFromZeroAndClamps) {
  Volume v = makeStack(4, 2, evenOffsets(2, 3.0));
  const std::vector<float> in{12.4f, -3.6f, 40000.f, -40000.f, 0.5f, -1024.f, 2.5f, 3071.f,
                              1.f,   2.f,   3.f,     4.f,      5.f,  6.f,     7.f,  8.f};
  v.hu = in;
  const auto file = scratchDir("int16") / "v.nii";
  writeNifti(v, file);
  const Volume r = readNifti(file);
  // Halves round away from zero, as the DICOM write-back does.
  const std::vector<float> want{12.f, -4.f, 32767.f, -32768.f, 1.f, -1024.f, 3.f, 3071.f,
                                1.f,  2.f,  3.f,     4.f,      5.f, 6.f,     7.f, 8.f};
  EXPECT_EQ(r.hu, want);
}

TEST(NiftiIO, UInt8ClampsToByteRange) {
  Volume v = makeStack(3, 1, evenOffsets(1, 1.0));
  v.hu = {-5.f, 100.4f, 300.f};
  const auto file = scratchDir("uint8") / "v.nii.gz";
  writeNifti(v, file, NiftiPixel::UInt8);
  EXPECT_EQ(readNifti(file).hu, (std::vector<float>{0.f, 100.f, 255.f}));
}

struct NiftiHeader {
  std::int16_t dim[8];
  std::int16_t datatype, qform_code, sform_code;
  float pixdim[8];
  float srow[3][4];
};

NiftiHeader readHeader(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  char raw[348];
  in.read(raw, sizeof raw);
  EXPECT_TRUE(in.good());
  std::int32_t sizeof_hdr;
  std::memcpy(&sizeof_hdr, raw, 4);
  EXPECT_EQ(sizeof_hdr, 348);
  EXPECT_EQ(std::string(raw + 344, 3), "n+1");
  NiftiHeader h{};
  std::memcpy(h.dim, raw + 40, sizeof h.dim);
  std::memcpy(&h.datatype, raw + 70, 2);
  std::memcpy(h.pixdim, raw + 76, sizeof h.pixdim);
  std::memcpy(&h.qform_code, raw + 252, 2);
  std::memcpy(&h.sform_code, raw + 254, 2);
  std::memcpy(h.srow, raw + 280, sizeof h.srow);
  return h;
}

TEST(NiftiIO, HeaderHoldsRasAffineOfTheStack) {
  Volume v = makeStack(6, 5, evenOffsets(4, 2.5), 0, {0.8, 0.6, 0}, {-0.36, 0.48, 0.8}, 0.8, 0.7,
                       {-20.5, -31.25, 12.0});
  fill(v, linearField);
  const auto file = scratchDir("header") / "v.nii";
  writeNifti(v, file);
  const NiftiHeader h = readHeader(file);
  EXPECT_EQ(h.dim[0], 3);
  EXPECT_EQ(h.dim[1], 6);
  EXPECT_EQ(h.dim[2], 5);
  EXPECT_EQ(h.dim[3], 4);
  EXPECT_EQ(h.datatype, 4);  // DT_INT16
  EXPECT_GT(h.sform_code, 0);
  EXPECT_GT(h.qform_code, 0);
  EXPECT_NEAR(h.pixdim[1], 0.8, 1e-6);
  EXPECT_NEAR(h.pixdim[2], 0.7, 1e-6);
  EXPECT_NEAR(h.pixdim[3], 2.5, 1e-6);
  // RAS = diag(-1, -1, 1) * LPS, for every column of the voxel -> world affine.
  const auto lps = voxelToLpsAffine(v);
  const double flip[3] = {-1, -1, 1};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_NEAR(h.srow[r][c], flip[r] * lps[r * 4 + c], 1e-4) << r << "," << c;
  // Spot check: voxel (0,0,0) is at RAS (20.5, 31.25, 12).
  EXPECT_NEAR(h.srow[0][3], 20.5, 1e-5);
  EXPECT_NEAR(h.srow[1][3], 31.25, 1e-5);
  EXPECT_NEAR(h.srow[2][3], 12.0, 1e-5);
}

TEST(NiftiIO, TiltedUnevenStackIsWrittenOnItsRegularGrid) {
  Volume v = makeStack(30, 26, {0, 4, 8, 12, 13.08, 20.08, 27.08}, 18.5, {1, 0, 0}, {0, 0.948, -0.317});
  fill(v, linearField);
  const auto file = scratchDir("tilted") / "v.nii.gz";
  EXPECT_TRUE(writeNifti(v, file, NiftiPixel::Float32));
  const Volume r = readNifti(file);
  const Volume g = regularGridFor(v);
  expectSameGeometry(r, g, 1e-4);
  std::size_t inside = 0, wrong = 0;
  for (std::size_t k = 0; k < r.nz; ++k)
    for (std::size_t j = 0; j < r.ny; ++j)
      for (std::size_t i = 0; i < r.nx; ++i) {
        const float x = r.at(i, j, k);
        if (x == -1024.0f) continue;
        ++inside;
        wrong += std::abs(x - linearField(g.world(double(i), double(j), k))) > 1e-2;
      }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(inside, r.voxelCount() / 2);
}

TEST(NiftiIO, EvenlySpacedShearedStackIsResampledAtItsMeanGap) {
  Volume v = makeStack(16, 14, evenOffsets(6, 2.0), 14.0, {1, 0, 0}, {0, 1, 0});
  fill(v, linearField);
  const auto file = scratchDir("sheared") / "v.nii.gz";
  EXPECT_TRUE(writeNifti(v, file, NiftiPixel::Float32));
  const Volume r = readNifti(file);
  ASSERT_EQ(r.nz, 6u);
  EXPECT_NEAR(r.slice_pos[1][2] - r.slice_pos[0][2], 2.0, 1e-5);
  EXPECT_TRUE(analyzeStack(r).regular());  // the file's affine holds no shear
  // First and last grid slices lie on the first and last DICOM slices.
  EXPECT_NEAR(r.slice_pos.back()[2], v.slice_pos.back()[2], 1e-4);
  std::size_t wrong = 0;
  for (std::size_t n = 0; n < r.hu.size(); ++n) {
    const std::size_t i = n % r.nx, j = (n / r.nx) % r.ny, k = n / (r.nx * r.ny);
    if (r.hu[n] != -1024.0f) wrong += std::abs(r.hu[n] - linearField(r.world(double(i), double(j), k))) > 1e-2;
  }
  EXPECT_EQ(wrong, 0u);
}

TEST(NiftiIO, RegularMaskIsWrittenOnTheStackItself) {
  const Volume v = makeStack(9, 7, evenOffsets(5, 2.0), 0, {0, 1, 0}, {0, 0, -1});
  VoxelMask m = VoxelMask::like(v);
  for (std::size_t n = 0; n < m.data.size(); n += 3) m.data[n] = 1;
  const auto file = scratchDir("mask") / "m.nii.gz";
  writeNiftiMask(m, v, file);
  const Volume r = readNifti(file);
  expectSameGeometry(r, v, 1e-4);
  for (std::size_t n = 0; n < m.data.size(); ++n) ASSERT_EQ(r.hu[n], float(m.data[n])) << n;
}

TEST(NiftiIO, TiltedMaskGoesOnTheSameGridAsTheImage) {
  const Volume v = makeStack(20, 18, {0, 4, 8, 12, 13.1, 20.1}, 17.0, {1, 0, 0}, {0, 0.948, -0.317});
  VoxelMask m = VoxelMask::like(v);
  std::mt19937 rng(9);
  for (auto& x : m.data) x = rng() % 2;
  const auto dir = scratchDir("tiltmask");
  writeNiftiMask(m, v, dir / "m.nii.gz");
  Volume img = v;
  fill(img, linearField);
  writeNifti(img, dir / "v.nii.gz");
  const Volume rm = readNifti(dir / "m.nii.gz"), rv = readNifti(dir / "v.nii.gz");
  expectSameGeometry(rm, rv, 1e-6);
  // Pulling the written mask back onto the native stack restores it exactly.
  VoxelMask on_grid = VoxelMask::like(rm);
  for (std::size_t n = 0; n < rm.hu.size(); ++n) {
    ASSERT_TRUE(rm.hu[n] == 0.0f || rm.hu[n] == 1.0f);
    on_grid.data[n] = rm.hu[n] != 0.0f;
  }
  const VoxelMask back = maskToNative(on_grid, regularGridFor(v), v);
  EXPECT_EQ(back.data, m.data);
}

TEST(NiftiIO, LeftHandedFileIsReadWithAscendingSlices) {
  // Slice axis pointing to -z while rows x columns point to +z (as dcm2niix can write).
  using Image = itk::Image<std::int16_t, 3>;
  auto img = Image::New();
  Image::SizeType size{{3, 2, 4}};
  img->SetRegions(Image::RegionType(size));
  img->Allocate();
  for (std::size_t n = 0; n < 24; ++n) img->GetBufferPointer()[n] = static_cast<std::int16_t>(n);
  Image::DirectionType d;
  d.SetIdentity();
  d(2, 2) = -1;
  img->SetDirection(d);
  Image::SpacingType sp;
  sp[0] = 0.5;
  sp[1] = 0.75;
  sp[2] = 2.0;
  img->SetSpacing(sp);
  Image::PointType o;
  o[0] = 10;
  o[1] = 20;
  o[2] = 30;
  img->SetOrigin(o);
  const auto file = scratchDir("lefthanded") / "l.nii";
  auto w = itk::ImageFileWriter<Image>::New();
  w->SetImageIO(itk::NiftiImageIO::New());
  w->SetFileName(file.string());
  w->SetInput(img);
  w->Update();

  const Volume v = readNifti(file);
  ASSERT_EQ(v.nz, 4u);
  EXPECT_NEAR(v.normal[2], 1.0, 1e-9);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_NEAR(v.slice_pos[k][2], 30.0 - 2.0 * double(3 - k), 1e-4);  // ascending along +z
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t i = 0; i < 3; ++i)  // file slice 3 - k holds what is now slice k
        EXPECT_EQ(v.at(i, j, k), float(((3 - k) * 2 + j) * 3 + i));
  }
  EXPECT_TRUE(analyzeStack(v).regular());
}

TEST(NiftiIO, ErrorsNameTheFile) {
  const auto missing = scratchDir("missing") / "nothing.nii.gz";
  try {
    readNifti(missing);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing.nii.gz"), std::string::npos);
  }
  EXPECT_THROW(writeNifti(Volume{}, missing), Error);
}

}  // namespace
}  // namespace ctd
