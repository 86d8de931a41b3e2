#include "write/StoredSamples.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"
#include "dicom/PixelDecoder.h"

namespace ctd {

StoredRange storedRange(const DicomInstance& inst) {
  const int bits = inst.bits_stored > 0 && inst.bits_stored <= 32 ? inst.bits_stored : 16;
  if (inst.pixel_representation == 1) {
    const std::int64_t half = std::int64_t{1} << (bits - 1);
    return {static_cast<std::int32_t>(-half), static_cast<std::int32_t>(half - 1)};
  }
  const std::int64_t top = (std::int64_t{1} << std::min(bits, 31)) - 1;
  return {0, static_cast<std::int32_t>(top)};
}

std::int32_t storedFromHu(double hu, double slope, double intercept, StoredRange r) {
  const double s = slope != 0 ? slope : 1.0;
  const double v = std::round((hu - intercept) / s);
  if (!(v >= r.lo)) return r.lo;  // also catches NaN
  if (v > r.hi) return r.hi;
  return static_cast<std::int32_t>(v);
}

bool readNativeStored(const DicomInstance& inst, std::vector<std::int32_t>& stored) {
  // Kept per thread between calls: a rewrite reads each changed file twice
  // (to patch it, then to check what was written), and a fresh vector is
  // zero-filled before the pread overwrites it. A buffer larger than a few
  // slices (a multi-frame file) is not kept.
  thread_local std::vector<std::uint16_t> words;
  struct Trim {
    std::vector<std::uint16_t>& w;
    ~Trim() {
      if (w.capacity() > (std::size_t{8} << 20)) std::vector<std::uint16_t>().swap(w);
    }
  } trim{words};
  if (!readNativeWords(inst, words)) return false;
  // readNativeWords only accepts HighBit = BitsStored - 1: the low BitsStored
  // bits, sign-extended when PixelRepresentation is 1. Branch-free loops, which
  // GCC vectorises: a rewrite converts every word of each file twice.
  const unsigned bits = std::clamp<unsigned>(inst.bits_stored, 1, 16);
  stored.resize(words.size());
  const std::uint16_t* w = words.data();
  std::int32_t* out = stored.data();
  const std::size_t n = words.size();
  // In blocks of a fixed length: GCC's cheap cost model at -O2 vectorises only known trip counts.
  const auto convert = [&](auto one) {
    constexpr std::size_t kBlock = 64;
    std::size_t i = 0;
    for (; i + kBlock <= n; i += kBlock)
      for (std::size_t b = 0; b < kBlock; ++b) out[i + b] = one(w[i + b]);
    for (; i < n; ++i) out[i] = one(w[i]);
  };
  if (inst.pixel_representation == 1) {
    // Shift the sign bit to bit 31, then arithmetic right shift (C++20).
    const unsigned up = 32 - bits;
    convert([up](std::uint16_t x) { return static_cast<std::int32_t>(std::uint32_t{x} << up) >> up; });
  } else {
    const std::uint32_t mask = (std::uint32_t{1} << bits) - 1u;
    convert([mask](std::uint16_t x) { return static_cast<std::int32_t>(x & mask); });
  }
  return true;
}

void putStoredSample(std::string& raw, std::size_t index, std::int32_t value, const DicomInstance& inst,
                     bool big_endian) {
  const unsigned bytes = inst.bits_allocated / 8u;
  const unsigned bits = inst.bits_stored;
  const unsigned shift = inst.high_bit + 1u >= bits ? inst.high_bit + 1u - bits : 0u;
  const std::uint64_t mask = ((bits >= 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1)) << shift) & 0xFFFFFFFFull;
  const std::size_t at = index * bytes;
  if (bytes == 0 || at + bytes > raw.size()) throw Error(inst.path, "pixel index outside PixelData");
  auto* p = reinterpret_cast<unsigned char*>(raw.data() + at);
  std::uint64_t word = 0;
  for (unsigned b = 0; b < bytes; ++b) {
    const unsigned pos = big_endian ? bytes - 1 - b : b;
    word |= std::uint64_t{p[pos]} << (8 * b);
  }
  const std::uint64_t bits_value = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(value)) << shift) & mask;
  word = (word & ~mask) | bits_value;
  for (unsigned b = 0; b < bytes; ++b) {
    const unsigned pos = big_endian ? bytes - 1 - b : b;
    p[pos] = static_cast<unsigned char>((word >> (8 * b)) & 0xFF);
  }
}

std::string rawLittleEndian(const std::vector<std::int32_t>& stored, const DicomInstance& inst) {
  const unsigned bytes = inst.bits_allocated / 8u;
  if (bytes != 1 && bytes != 2 && bytes != 4) throw Error(inst.path, "unsupported BitsAllocated");
  std::string raw(stored.size() * bytes, '\0');
  // Two's complement words, sign-extended over the whole container for signed
  // data: what decoders and lossless encoders expect.
  for (std::size_t n = 0; n < stored.size(); ++n) {
    const auto word = static_cast<std::uint32_t>(stored[n]);
    for (unsigned b = 0; b < bytes; ++b) raw[n * bytes + b] = static_cast<char>((word >> (8 * b)) & 0xFF);
  }
  if (raw.size() % 2) raw.push_back('\0');
  return raw;
}

}  // namespace ctd
