#pragma once
// What ctdeface knows about one DICOM file after reading its header (no pixels).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/Vec3.h"

namespace ctd {

enum class InstanceKind {
  CtImage,          // CT / Enhanced CT / Legacy Converted Enhanced CT image (candidate for a volume)
  Localizer,        // ImageType LOCALIZER, scout, projection image
  SecondaryCapture, // derived screenshots, dose reports, SC storage
  NonImage,         // SR, SEG, RTSTRUCT, PR, ... or anything without PixelData
  OtherImage,       // an image of another modality (MR, PT, ...)
  DirectoryRecord,  // DICOMDIR / DIRFILE media directory
};
const char* toString(InstanceKind k);

// Geometry and value mapping of one frame (single-frame files have exactly one).
struct FrameInfo {
  std::optional<Vec3> position;                 // ImagePositionPatient
  std::optional<std::array<double, 6>> orientation;  // ImageOrientationPatient
  std::optional<std::array<double, 2>> pixel_spacing; // [between rows, between columns]
  double slope = 1.0;
  double intercept = 0.0;
  double slice_thickness = 0.0;
};

struct DicomInstance {
  std::filesystem::path path;      // as found on disk
  std::filesystem::path relative;  // relative to the case root (used to mirror the output)
  InstanceKind kind = InstanceKind::NonImage;
  std::string kind_reason;         // why it was classified so (for the log)

  std::string transfer_syntax, sop_class_uid, sop_instance_uid;
  std::string study_uid, series_uid, frame_of_reference_uid;
  std::string modality, series_description;
  std::vector<std::string> image_type;
  int series_number = 0, instance_number = 0, acquisition_number = 0;

  bool has_pixel_data = false;
  std::uint16_t rows = 0, columns = 0, samples_per_pixel = 1;
  std::uint16_t bits_allocated = 0, bits_stored = 0, high_bit = 0, pixel_representation = 0;
  std::string photometric;
  std::uint32_t number_of_frames = 1;
  std::vector<FrameInfo> frames;   // size == number_of_frames for images
  // Where the header pass stopped at the (7FE0,0010) PixelData element (GDCM
  // 3.0: just after the element's tag and length; 0: unknown, e.g. deflated).
  // Lets VolumeLoader read native pixels with one pread instead of parsing the
  // file a second time; readers check the element header before using it.
  std::uint64_t pixel_data_offset = 0;
  std::optional<double> gantry_tilt;  // (0018,1120), informative only
};

}  // namespace ctd
