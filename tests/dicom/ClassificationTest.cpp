// InstanceKind of files that are not CT volumes, and PixelData detection.
#include <gtest/gtest.h>

#include <gdcmReader.h>
#include <gdcmWriter.h>

#include "DicomTestSupport.h"
#include "dicom/SeriesAssembler.h"
#include "synth/SyntheticSeries.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

void setString(gdcm::DataSet& ds, std::uint16_t g, std::uint16_t e, gdcm::VR vr, std::string v) {
  if (v.size() % 2) v += vr == gdcm::VR::UI ? '\0' : ' ';
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(vr);
  de.SetByteValue(v.data(), static_cast<std::uint32_t>(v.size()));
  ds.Replace(de);
}

// Rewrites `file` after `edit` changed its data set (and file meta SOP class).
template <typename Edit>
void rewrite(const fs::path& file, const fs::path& out, Edit edit) {
  gdcm::Reader r;
  r.SetFileName(file.string().c_str());
  ASSERT_TRUE(r.Read());
  edit(r.GetFile().GetDataSet());
  r.GetFile().GetHeader().Clear();
  gdcm::Writer w;
  w.SetFile(r.GetFile());
  w.SetFileName(out.string().c_str());
  ASSERT_TRUE(w.Write());
}

TEST(Classification, KindsAndReasons) {
  const fs::path dir = test::scratchDir("classification");
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(8, 8, 2);
  const auto files = synth::writeSeries(spec, dir / "ct");
  rewrite(files[0], dir / "sr.dcm", [](gdcm::DataSet& ds) {
    setString(ds, 0x0008, 0x0016, gdcm::VR::UI, "1.2.840.10008.5.1.4.1.1.88.22");
    setString(ds, 0x0008, 0x0060, gdcm::VR::CS, "SR");
    ds.Remove(gdcm::Tag(0x7FE0, 0x0010));
  });
  rewrite(files[0], dir / "mr.dcm", [](gdcm::DataSet& ds) {
    setString(ds, 0x0008, 0x0016, gdcm::VR::UI, "1.2.840.10008.5.1.4.1.1.4");
    setString(ds, 0x0008, 0x0060, gdcm::VR::CS, "MR");
  });
  rewrite(files[0], dir / "scout.dcm", [](gdcm::DataSet& ds) {
    setString(ds, 0x0008, 0x0008, gdcm::VR::CS, "ORIGINAL\\PRIMARY\\LOCALIZER");
  });
  rewrite(files[0], dir / "nopixels.dcm", [](gdcm::DataSet& ds) { ds.Remove(gdcm::Tag(0x7FE0, 0x0010)); });

  const DicomInstance ct = readInstanceHeader(files[0], dir);
  EXPECT_EQ(ct.kind, InstanceKind::CtImage);
  EXPECT_TRUE(ct.has_pixel_data);
  EXPECT_EQ(ct.relative, fs::path("ct") / files[0].filename());

  const DicomInstance sr = readInstanceHeader(dir / "sr.dcm", dir);
  EXPECT_EQ(sr.kind, InstanceKind::NonImage);
  EXPECT_FALSE(sr.has_pixel_data);
  EXPECT_EQ(sr.kind_reason, "structured report (SOP class 1.2.840.10008.5.1.4.1.1.88.22)");

  const DicomInstance mr = readInstanceHeader(dir / "mr.dcm", dir);
  EXPECT_EQ(mr.kind, InstanceKind::OtherImage);
  EXPECT_EQ(mr.kind_reason, "not a CT image (MR, SOP class 1.2.840.10008.5.1.4.1.1.4)");

  const DicomInstance scout = readInstanceHeader(dir / "scout.dcm", dir);
  EXPECT_EQ(scout.kind, InstanceKind::Localizer);
  EXPECT_EQ(scout.kind_reason, "localizer (ImageType ORIGINAL\\PRIMARY\\LOCALIZER)");

  const DicomInstance bare = readInstanceHeader(dir / "nopixels.dcm", dir);
  EXPECT_FALSE(bare.has_pixel_data);
  EXPECT_EQ(bare.kind, InstanceKind::NonImage);
  EXPECT_EQ(bare.kind_reason, "no PixelData (SOP class 1.2.840.10008.5.1.4.1.1.2)");

  const DicomInstance dicomdir =
      readInstanceHeader(test::sharedData("ct-phantom-philips-multiseries/DICOMDIR"), dir);
  EXPECT_EQ(dicomdir.kind, InstanceKind::DirectoryRecord);
  EXPECT_FALSE(dicomdir.has_pixel_data);
  EXPECT_STREQ(toString(InstanceKind::DirectoryRecord), "directory record");
}

}  // namespace
}  // namespace ctd
