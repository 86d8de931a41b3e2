#pragma once
// Test tool: writes a Volume as a real DICOM CT series with GDCM, with the
// quirks the tests need (shuffled files, lying InstanceNumbers, per-slice
// rescale, unsigned storage, compressed transfer syntaxes, Enhanced CT).
#include <filesystem>
#include <string>
#include <vector>

#include "volume/Volume.h"

namespace ctd::synth {

struct SeriesSpec {
  Volume volume;  // HU + geometry (slice_pos, row/col dirs, spacing) to write
  std::string transfer_syntax = "1.2.840.10008.1.2.1";  // any GDCM can encode losslessly
  bool pixel_signed = true;       // PixelRepresentation
  int bits_stored = 16;           // 12 allowed
  std::vector<double> slopes;     // per slice; empty = 1
  std::vector<double> intercepts; // per slice; empty = 0 (signed) or -1024 (unsigned)
  bool lying_instance_numbers = false;  // InstanceNumber unrelated to position
  bool shuffle_file_names = false;      // file names not in slice order
  bool enhanced_multiframe = false;     // one Enhanced CT file with per-frame groups
  bool dcm_extension = true;
  std::string study_uid, series_uid;    // empty = generated
  std::string series_description = "synthetic";
  int series_number = 1;
  std::string patient_id = "SYNTH";
  std::vector<std::string> image_type = {"ORIGINAL", "PRIMARY", "AXIAL"};
  unsigned seed = 1;
};

// Writes the files into `dir` (created) and returns their paths in slice order.
std::vector<std::filesystem::path> writeSeries(const SeriesSpec& spec, const std::filesystem::path& dir);

}  // namespace ctd::synth
