#pragma once
// Stored pixel values <-> the raw sample words of an uncompressed PixelData value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dicom/DicomInstance.h"

namespace ctd {

// Range of stored values BitsStored and PixelRepresentation allow.
struct StoredRange {
  std::int32_t lo = 0, hi = 0;
};
StoredRange storedRange(const DicomInstance& inst);

// stored = round((hu - intercept) / slope), clamped to `r`.
std::int32_t storedFromHu(double hu, double slope, double intercept, StoredRange r);

// Writes `value` into the sample word `index` of `raw` (BitsAllocated 8/16/32,
// little or big endian). Only the BitsStored bits at HighBit change, so bits
// outside them (overlays, vendor padding) survive.
void putStoredSample(std::string& raw, std::size_t index, std::int32_t value, const DicomInstance& inst,
                     bool big_endian);

// The stored values of a native 16-bit file through the reader's fast path
// (readNativeWords: one pread at the PixelData offset the header pass found,
// the same values GDCM's decode gives): false when the file is anything else
// or its PixelData is not where the header pass saw it; the caller then
// decodes with GDCM.
bool readNativeStored(const DicomInstance& inst, std::vector<std::int32_t>& stored);

// A fresh little-endian uncompressed PixelData value holding `stored`.
std::string rawLittleEndian(const std::vector<std::int32_t>& stored, const DicomInstance& inst);

}  // namespace ctd
