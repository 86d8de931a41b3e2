// DicomInstance survives the trip through bytes (the isolated header pass
// sends it through a pipe): every field, on real headers and a hand-made one.
#include <gtest/gtest.h>

#include "DicomTestSupport.h"
#include "core/Error.h"
#include "dicom/DicomInstanceCodec.h"
#include "dicom/SeriesAssembler.h"

namespace ctd {
namespace {

void expectSame(const DicomInstance& a, const DicomInstance& b) {
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.relative, b.relative);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.kind_reason, b.kind_reason);
  EXPECT_EQ(a.transfer_syntax, b.transfer_syntax);
  EXPECT_EQ(a.sop_class_uid, b.sop_class_uid);
  EXPECT_EQ(a.sop_instance_uid, b.sop_instance_uid);
  EXPECT_EQ(a.study_uid, b.study_uid);
  EXPECT_EQ(a.series_uid, b.series_uid);
  EXPECT_EQ(a.frame_of_reference_uid, b.frame_of_reference_uid);
  EXPECT_EQ(a.modality, b.modality);
  EXPECT_EQ(a.series_description, b.series_description);
  EXPECT_EQ(a.image_type, b.image_type);
  EXPECT_EQ(a.series_number, b.series_number);
  EXPECT_EQ(a.instance_number, b.instance_number);
  EXPECT_EQ(a.acquisition_number, b.acquisition_number);
  EXPECT_EQ(a.has_pixel_data, b.has_pixel_data);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.columns, b.columns);
  EXPECT_EQ(a.samples_per_pixel, b.samples_per_pixel);
  EXPECT_EQ(a.bits_allocated, b.bits_allocated);
  EXPECT_EQ(a.bits_stored, b.bits_stored);
  EXPECT_EQ(a.high_bit, b.high_bit);
  EXPECT_EQ(a.pixel_representation, b.pixel_representation);
  EXPECT_EQ(a.photometric, b.photometric);
  EXPECT_EQ(a.number_of_frames, b.number_of_frames);
  ASSERT_EQ(a.frames.size(), b.frames.size());
  for (std::size_t f = 0; f < a.frames.size(); ++f) {
    EXPECT_EQ(a.frames[f].position, b.frames[f].position);
    EXPECT_EQ(a.frames[f].orientation, b.frames[f].orientation);
    EXPECT_EQ(a.frames[f].pixel_spacing, b.frames[f].pixel_spacing);
    EXPECT_EQ(a.frames[f].slope, b.frames[f].slope);
    EXPECT_EQ(a.frames[f].intercept, b.frames[f].intercept);
    EXPECT_EQ(a.frames[f].slice_thickness, b.frames[f].slice_thickness);
  }
  EXPECT_EQ(a.pixel_data_offset, b.pixel_data_offset);
  EXPECT_EQ(a.gantry_tilt, b.gantry_tilt);
}

TEST(DicomInstanceCodec, HandMadeInstanceWithEveryFieldSet) {
  DicomInstance inst;
  inst.path = "/a b/ü\n.dcm";
  inst.relative = "ü\n.dcm";
  inst.kind = InstanceKind::Localizer;
  inst.kind_reason = "localizer";
  inst.transfer_syntax = "1.2.840.10008.1.2.4.70";
  inst.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  inst.sop_instance_uid = "1.2.3";
  inst.study_uid = "4.5";
  inst.series_uid = "6.7";
  inst.frame_of_reference_uid = "8.9";
  inst.modality = "CT";
  inst.series_description = std::string("with\0nul", 8);
  inst.image_type = {"ORIGINAL", "", "LOCALIZER"};
  inst.series_number = -3;
  inst.instance_number = 2147483647;
  inst.acquisition_number = 5;
  inst.has_pixel_data = true;
  inst.rows = 65535;
  inst.columns = 2;
  inst.samples_per_pixel = 3;
  inst.bits_allocated = 16;
  inst.bits_stored = 12;
  inst.high_bit = 11;
  inst.pixel_representation = 1;
  inst.photometric = "MONOCHROME1";
  inst.number_of_frames = 3;
  FrameInfo full;
  full.position = Vec3{1.5, -2.25, 1e300};
  full.orientation = std::array<double, 6>{1, 0, 0, 0, 1, 0};
  full.pixel_spacing = std::array<double, 2>{0.5, 0.25};
  full.slope = 2;
  full.intercept = -1024;
  full.slice_thickness = 1.25;
  inst.frames = {full, FrameInfo{}, full};
  inst.pixel_data_offset = 1234567890123ull;
  inst.gantry_tilt = -12.5;
  const std::string bytes = encodeInstance(inst);
  expectSame(inst, decodeInstance(bytes));
  EXPECT_EQ(encodeInstance(decodeInstance(bytes)), bytes);
}

TEST(DicomInstanceCodec, RealHeadersRoundTrip) {
  int read = 0, multi_frame = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::sharedData("ct-codec-slices"))) {
    if (!e.is_regular_file()) continue;
    DicomInstance inst;
    try {
      inst = readInstanceHeader(e.path(), test::sharedData("ct-codec-slices"));
    } catch (const Error&) {
      continue;
    }
    ++read;
    multi_frame += inst.frames.size() > 1;
    expectSame(inst, decodeInstance(encodeInstance(inst)));
  }
  EXPECT_GT(read, 3);
  EXPECT_GT(multi_frame, 0);  // the Enhanced CT, with per-frame geometry
}

TEST(DicomInstanceCodec, ACutRecordIsRefused) {
  DicomInstance inst;
  inst.path = "/x.dcm";
  inst.frames.resize(2);
  const std::string bytes = encodeInstance(inst);
  for (std::size_t cut : {std::size_t(0), std::size_t(5), bytes.size() - 1})
    EXPECT_THROW(decodeInstance(std::string_view(bytes).substr(0, cut)), Error) << cut;
  EXPECT_THROW(decodeInstance(bytes + "x"), Error);
}

}  // namespace
}  // namespace ctd
