// Broken files: empty, cut, not DICOM, without or with wrong PixelData, pixel
// formats ctdeface does not handle, corrupt compressed streams, an unknown
// transfer syntax, impossible sizes. Each: one clear line naming the file, the
// batch goes on, input unchanged, nothing of the bad series in OUT.
#include <gdcmDataSet.h>

#include "BadInputFixture.h"
#include "DicomEdits.h"
#include "synth/SyntheticSeries.h"

namespace ctd::test {
namespace {

const gdcm::Tag kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kSamples(0x0028, 0x0002),
    kPhotometric(0x0028, 0x0004), kBitsAllocated(0x0028, 0x0100), kBitsStored(0x0028, 0x0101),
    kHighBit(0x0028, 0x0102), kFrames(0x0028, 0x0008), kPixelData(0x7FE0, 0x0010);

std::uint32_t le32(const std::string& b, std::size_t at) {
  return std::uint32_t(std::uint8_t(b[at])) | std::uint32_t(std::uint8_t(b[at + 1])) << 8 |
         std::uint32_t(std::uint8_t(b[at + 2])) << 16 | std::uint32_t(std::uint8_t(b[at + 3])) << 24;
}
void putLe32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Explicit VR LE PixelData of `file` made `delta` bytes shorter or longer,
// length field and file end both (a consistent file with the wrong amount).
void resizePixelData(const fs::path& file, int delta) {
  std::string b = fileBytes(file);
  const std::size_t tag = pixelDataTagOffset(b);
  ASSERT_EQ(b.substr(tag + 4, 2), "OW");
  const std::uint32_t len = le32(b, tag + 8);
  ASSERT_EQ(tag + 12 + len, b.size());
  putLe32(b, tag + 8, static_cast<std::uint32_t>(std::int64_t(len) + delta));
  if (delta < 0) b.resize(b.size() - std::size_t(-delta));
  else b.append(std::size_t(delta), '\x5A');
  writeFileBytes(file, b);
}

TEST_F(BadInput, ZeroLengthFile) {
  writeFileBytes(bad_ / "empty.dcm", "");
  expectReported(runBatch(), "empty.dcm", {"empty"});
}

TEST_F(BadInput, NonDicomFileWithDcmExtension) {
  writeFileBytes(bad_ / "notes.dcm", "Patient arrived at 10:32, scan repeated.\n");
  writeFileBytes(bad_ / "image.dcm", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, '\x11'));
  const BatchRun run = runBatch();
  expectReported(run, "notes.dcm", {"not a DICOM"});
  expectReported(run, "image.dcm", {"not a DICOM"});
}

TEST_F(BadInput, FileTruncatedInsideTheHeader) {
  const auto files = writeHeadSeries(scratch_ / "series");
  writeFileBytes(bad_ / "cut.dcm", fileBytes(files[3]).substr(0, 400));
  expectReported(runBatch(), "cut.dcm", {"cut.dcm"});
}

TEST_F(BadInput, FileTruncatedInsidePixelDataFailsItsSeries) {
  const auto files = writeHeadSeries(bad_);
  const std::string b = fileBytes(files[4]);
  writeFileBytes(files[4], b.substr(0, b.size() - 3000));
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[4].filename().string(), {"PixelData"});
}

TEST_F(BadInput, CtImageWithoutPixelData) {
  const auto files = writeHeadSeries(scratch_ / "series");
  fs::copy_file(files[5], bad_ / "nopixels.dcm");
  editDicom(bad_ / "nopixels.dcm", [](gdcm::File& f) { removeElement(f.GetDataSet(), kPixelData); });
  expectReported(runBatch(), "nopixels.dcm", {"no PixelData"});
}

TEST_F(BadInput, PixelDataShorterThanTheMatrix) {
  const auto files = writeHeadSeries(bad_);
  resizePixelData(files[6], -256);
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[6].filename().string(), {"PixelData"});
}

TEST_F(BadInput, PixelDataLongerThanTheMatrix) {
  const auto files = writeHeadSeries(bad_);
  resizePixelData(files[6], 256);
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[6].filename().string(), {"PixelData"});
}

TEST_F(BadInput, BitsAllocatedOne) {
  const auto files = writeHeadSeries(bad_);
  editDicom(files[2], [](gdcm::File& f) {
    setUS(f.GetDataSet(), kBitsAllocated, 1);
    setUS(f.GetDataSet(), kBitsStored, 1);
    setUS(f.GetDataSet(), kHighBit, 0);
  });
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[2].filename().string(), {"BitsAllocated 1"});
}

TEST_F(BadInput, BitsAllocatedThirtyTwo) {
  const auto files = writeHeadSeries(bad_);
  editDicom(files[2], [](gdcm::File& f) {
    setUS(f.GetDataSet(), kBitsAllocated, 32);
    setUS(f.GetDataSet(), kBitsStored, 32);
    setUS(f.GetDataSet(), kHighBit, 31);
  });
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[2].filename().string(), {"BitsAllocated 32"});
}

TEST_F(BadInput, BitsStoredAboveBitsAllocated) {
  const auto files = writeHeadSeries(bad_);
  editDicom(files[2], [](gdcm::File& f) {
    setUS(f.GetDataSet(), kBitsStored, 20);
    setUS(f.GetDataSet(), kHighBit, 19);
  });
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[2].filename().string(), {"BitsStored"});
}

TEST_F(BadInput, RgbCtImage) {
  const auto files = writeHeadSeries(scratch_ / "series");
  fs::copy_file(files[5], bad_ / "rgb.dcm");
  editDicom(bad_ / "rgb.dcm", [](gdcm::File& f) {
    gdcm::DataSet& ds = f.GetDataSet();
    setUS(ds, kSamples, 3);
    setValue(ds, kPhotometric, gdcm::VR::CS, "RGB");
    setUS(ds, kBitsAllocated, 8);
    setUS(ds, kBitsStored, 8);
    setUS(ds, kHighBit, 7);
    setUS(ds, gdcm::Tag(0x0028, 0x0103), 0);
    setUS(ds, gdcm::Tag(0x0028, 0x0006), 0);
    gdcm::DataElement px(kPixelData);
    px.SetVR(gdcm::VR::OB);
    const std::string rgb(64 * 64 * 3, '\x40');
    px.SetByteValue(rgb.data(), static_cast<std::uint32_t>(rgb.size()));
    ds.Replace(px);
  });
  expectReported(runBatch(), "rgb.dcm", {"RGB"});
}

// Overwrites the start of the first compressed fragment (after the Basic
// Offset Table item): the codec's markers and headers are gone.
void corruptFirstFragment(const fs::path& file) {
  std::string b = fileBytes(file);
  const std::size_t tag = pixelDataTagOffset(b);
  std::size_t at = tag + 12;                        // Basic Offset Table item
  ASSERT_EQ(b.substr(at, 4), std::string("\xFE\xFF\x00\xE0", 4));
  at += 8 + le32(b, at + 4);                        // first fragment item
  ASSERT_EQ(b.substr(at, 4), std::string("\xFE\xFF\x00\xE0", 4));
  const std::size_t len = le32(b, at + 4);
  ASSERT_GT(len, 200u);
  for (std::size_t i = 0; i < 160; ++i) b[at + 8 + i] = static_cast<char>(0x9D ^ (i * 37));
  writeFileBytes(file, b);
}

TEST_F(BadInput, CorruptJpegLosslessStream) {
  const auto files = writeHeadSeries(bad_, "1.2.840.10008.1.2.4.70");
  corruptFirstFragment(files[3]);
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[3].filename().string(), {"decode"});
}

TEST_F(BadInput, CorruptJpeg2000Stream) {
  const auto files = writeHeadSeries(bad_, "1.2.840.10008.1.2.4.90");
  corruptFirstFragment(files[3]);
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, files[3].filename().string(), {"decode"});
}

TEST_F(BadInput, UnknownTransferSyntax) {
  const auto files = writeHeadSeries(bad_);
  // Same length, so the meta group length stays right: only the UID is unknown.
  replaceOnce(files[3], std::string("1.2.840.10008.1.2.1\0", 20), std::string("1.2.840.99999.7.7.1\0", 20));
  const BatchRun run = runBatch();
  expectReported(run, files[3].filename().string(), {"1.2.840.99999.7.7.1"});
}

TEST_F(BadInput, HugeMatrixDeclaredInTinyFilesIsRefusedBeforeAllocating) {
  for (const auto& file : writeHeadSeries(bad_))
    editDicom(file, [](gdcm::File& f) {
      setUS(f.GetDataSet(), kRows, 65535);
      setUS(f.GetDataSet(), kColumns, 65535);
    });
  const BatchRun run = runBatch();
  EXPECT_EQ(run.child.exit_code, 1);
  expectReported(run, "IM0001.dcm", {"65535"});
  // 65535^2 voxels per slice would be 17 GB of floats: nothing near that was touched.
  EXPECT_LT(run.child.max_rss_kib, 1L << 20) << "peak RSS " << run.child.max_rss_kib << " KiB";
}

TEST_F(BadInput, HugeNumberOfFramesIsRefusedBeforeAllocating) {
  for (const auto& file : writeHeadSeries(bad_))
    editDicom(file, [](gdcm::File& f) { setValue(f.GetDataSet(), kFrames, gdcm::VR::IS, "2000000000"); });
  const BatchRun run = runBatch();
  expectReported(run, "IM0002.dcm", {"NumberOfFrames"});
  EXPECT_LT(run.child.max_rss_kib, 1L << 20) << "peak RSS " << run.child.max_rss_kib << " KiB";
}

}  // namespace
}  // namespace ctd::test
