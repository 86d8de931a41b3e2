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

// The checks decodePixels makes of the header alone (pixel format, Rows x
// Columns x frames against the file's size), without reading a pixel: lets a
// caller refuse a file before allocating for it. Throws ctd::Error naming it.
void checkPixelHeader(const DicomInstance& inst);

// Throws ctd::Error naming the file on any decoding problem (corrupt stream,
// wrong length, unsupported syntax, more than one sample per pixel, ...).
DecodedFrames decodePixels(const DicomInstance& inst);

// Same, into `out`, reusing its storage: loops over many files (VolumeLoader)
// avoid a fresh allocation, and its page faults, per file.
void decodePixelsInto(const DicomInstance& inst, DecodedFrames& out);

// Compressed files are decoded in a forked child (see PixelDecoder.cpp), except
// in an ASan build whose process runs other threads, where the fork could
// deadlock. A caller that knows its other threads do not allocate (libFuzzer's
// watchdog thread) may ask for the child anyway. Same switch as
// alwaysIsolateGdcm (ForkPolicy.h), which the isolated header pass follows too.
void alwaysIsolateCompressedDecode(bool on);

// The common CT case without a second GDCM parse: native little-endian
// (implicit or explicit VR) greyscale PixelData with BitsAllocated 16 and
// HighBit = BitsStored - 1, read with one pread at inst.pixel_data_offset into
// `words` (frame-major, row-major, as on disk). Returns false when the file is
// anything else, or its PixelData element is not where and as long as the
// header says; the caller then decodes with decodePixelsInto, which yields the
// same values. Throws what decodePixels throws for a header it rejects.
bool readNativeWords(const DicomInstance& inst, std::vector<std::uint16_t>& words);

// Words read by readNativeWords -> HU: the stored value (BitsStored bits,
// sign-extended when PixelRepresentation is 1, as decodePixels gives it)
// times slope plus intercept, in double, rounded to float.
void nativeWordsToHu(const DicomInstance& inst, const std::uint16_t* words, std::size_t count, double slope,
                     double intercept, float* hu);

}  // namespace ctd
