#pragma once
// In-place patch of an uncompressed PixelData value: the file's bytes are kept
// and only the samples that change are rewritten, so every other data element
// (file meta included) stays byte-identical.
#include <cstdint>
#include <filesystem>
#include <vector>

#include "dicom/DicomInstance.h"

namespace ctd {

struct NativePixelLocation {
  std::uint64_t offset = 0;  // first byte of the PixelData value
  std::uint64_t length = 0;  // its value length
  bool big_endian = false;
};

// Finds the top-level PixelData value of `file` (encoded as `inst` describes)
// with GDCM and checks the element header bytes around it. Throws ctd::Error.
NativePixelLocation locateNativePixelData(const std::filesystem::path& file, const DicomInstance& inst);

// Rewrites, in `file`, every sample where `after` differs from `before`.
// `source_layout`: `file` is a byte copy of inst.path, so its PixelData value
// is where the header pass found the source's (inst.pixel_data_offset); it is
// taken from there when the element header bytes agree, without a GDCM parse.
void patchNativePixels(const std::filesystem::path& file, const DicomInstance& inst,
                       const std::vector<std::int32_t>& before, const std::vector<std::int32_t>& after,
                       bool source_layout = false);

}  // namespace ctd
