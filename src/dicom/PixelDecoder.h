#pragma once
// Decodes PixelData of any transfer syntax GDCM supports into stored values
// (sign-extended or masked to BitsStored), before rescale.
#include <cstdint>
#include <vector>

#include "dicom/DicomInstance.h"

namespace ctd {

struct DecodedFrames {
  std::uint16_t rows = 0, columns = 0;
  std::uint32_t frames = 0;
  std::vector<std::int32_t> stored;  // frame-major, then row-major: (f * rows + r) * columns + c
};

// Throws ctd::Error naming the file on any decoding problem (corrupt stream,
// wrong length, unsupported syntax, more than one sample per pixel, ...).
DecodedFrames decodePixels(const DicomInstance& inst);

// Same, into `out`, reusing its storage: loops over many files (VolumeLoader)
// avoid a fresh allocation, and its page faults, per file.
void decodePixelsInto(const DicomInstance& inst, DecodedFrames& out);

}  // namespace ctd
