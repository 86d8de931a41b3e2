#include "write/NativePixelPatch.h"

#include <gdcmReader.h>
#include <gdcmTag.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "core/Error.h"
#include "write/StoredSamples.h"

namespace ctd {
namespace {

constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
constexpr const char* kExplicitBE = "1.2.840.10008.1.2.2";

std::uint32_t readU32(const unsigned char* p, bool big_endian) {
  return big_endian ? (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3]
                    : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) | p[0];
}

std::uint64_t expectedBytes(const DicomInstance& inst) {
  return std::uint64_t{inst.rows} * inst.columns * inst.number_of_frames * inst.samples_per_pixel *
         (inst.bits_allocated / 8u);
}

// The PixelData value at the offset the header pass recorded (GDCM reports
// it either at the element's tag or right after its header, depending on the
// version: both are tried), with the same checks as locateNativePixelData:
// tag, VR, a length of Rows x Columns x Frames, value inside the file. Little
// endian only; nullopt sends the caller to GDCM.
std::optional<NativePixelLocation> atRecordedOffset(int fd, const DicomInstance& inst) {
  const bool implicit = inst.transfer_syntax == kImplicitLE;
  if (inst.pixel_data_offset == 0 || (!implicit && inst.transfer_syntax != "1.2.840.10008.1.2.1") ||
      inst.bits_allocated % 8 != 0)
    return std::nullopt;
  const std::uint64_t want = expectedBytes(inst);
  struct stat st {};
  if (want == 0 || ::fstat(fd, &st) != 0) return std::nullopt;
  const std::uint64_t header = implicit ? 8 : 12, at = inst.pixel_data_offset;
  for (const std::uint64_t tag_at : {at >= header ? at - header : at, at}) {
    unsigned char h[12] = {};
    if (::pread(fd, h, header, static_cast<off_t>(tag_at)) != static_cast<ssize_t>(header)) continue;
    const bool tag_ok = h[0] == 0xE0 && h[1] == 0x7F && h[2] == 0x10 && h[3] == 0x00;
    const bool vr_ok = implicit || ((h[4] == 'O') && (h[5] == 'W' || h[5] == 'B') && h[6] == 0 && h[7] == 0);
    const std::uint32_t len = readU32(h + header - 4, false);
    if (!tag_ok || !vr_ok || (len != want && len != want + 1)) continue;
    if (static_cast<std::uint64_t>(st.st_size) < tag_at + header + len) return std::nullopt;
    NativePixelLocation loc;
    loc.offset = tag_at + header;
    loc.length = len;
    return loc;
  }
  return std::nullopt;
}

bool preadAll(int fd, char* p, std::size_t n, std::uint64_t at) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got, n -= static_cast<std::size_t>(got), at += static_cast<std::uint64_t>(got);
  }
  return true;
}

bool pwriteAll(int fd, const char* p, std::size_t n, std::uint64_t at) {
  while (n > 0) {
    const ssize_t put = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put, n -= static_cast<std::size_t>(put), at += static_cast<std::uint64_t>(put);
  }
  return true;
}

// First index where `a` and `b` (n values each) differ, n if none; then the
// last. memcmp over blocks first: most of a slice is outside the face.
std::size_t firstDifference(const std::int32_t* a, const std::int32_t* b, std::size_t n) {
  constexpr std::size_t kBlock = 1024;
  std::size_t i = 0;
  while (i + kBlock <= n && std::memcmp(a + i, b + i, kBlock * sizeof *a) == 0) i += kBlock;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

std::size_t endOfDifferences(const std::int32_t* a, const std::int32_t* b, std::size_t from, std::size_t n) {
  constexpr std::size_t kBlock = 1024;
  std::size_t last = n;
  while (last >= from + kBlock && std::memcmp(a + last - kBlock, b + last - kBlock, kBlock * sizeof *a) == 0)
    last -= kBlock;
  while (last > from && a[last - 1] == b[last - 1]) --last;
  return last;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

NativePixelLocation locateNativePixelData(const std::filesystem::path& file, const DicomInstance& inst) {
  const gdcm::Tag pixel_tag(0x7FE0, 0x0010);
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  // With PixelData in the skip set GDCM stops right after its element header.
  if (!reader.ReadUpToTag(pixel_tag, std::set<gdcm::Tag>{pixel_tag}))
    throw Error(file, "cannot read the DICOM header");
  const std::size_t pos = reader.GetStreamCurrentPosition();
  const std::uint64_t want = expectedBytes(inst);
  if (inst.bits_allocated % 8 != 0 || want == 0) throw Error(file, "unsupported BitsAllocated for in-place rewrite");

  NativePixelLocation loc;
  loc.big_endian = inst.transfer_syntax == kExplicitBE;
  const bool implicit = inst.transfer_syntax == kImplicitLE;
  const std::size_t header = implicit ? 8 : 12;
  if (pos == static_cast<std::size_t>(-1) || pos < header) throw Error(file, "PixelData not found");

  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(pos - header));
  unsigned char h[12] = {};
  in.read(reinterpret_cast<char*>(h), static_cast<std::streamsize>(header));
  if (!in) throw Error(file, "PixelData header truncated");
  const bool tag_ok = loc.big_endian ? (h[0] == 0x7F && h[1] == 0xE0 && h[2] == 0x00 && h[3] == 0x10)
                                     : (h[0] == 0xE0 && h[1] == 0x7F && h[2] == 0x10 && h[3] == 0x00);
  const bool vr_ok = implicit || ((h[4] == 'O') && (h[5] == 'W' || h[5] == 'B') && h[6] == 0 && h[7] == 0);
  const std::uint32_t len = readU32(h + header - 4, loc.big_endian);
  if (!tag_ok || !vr_ok) throw Error(file, "unexpected bytes before the PixelData value");
  if (len == 0xFFFFFFFFu) throw Error(file, "encapsulated PixelData in an uncompressed transfer syntax");
  if (len != want && len != want + 1) throw Error(file, "PixelData length " + std::to_string(len) +
                                                        " does not match Rows x Columns x Frames");
  in.seekg(0, std::ios::end);
  if (static_cast<std::uint64_t>(in.tellg()) < pos + std::uint64_t{len}) throw Error(file, "PixelData truncated");
  loc.offset = pos;
  loc.length = len;
  return loc;
}

void patchNativePixels(const std::filesystem::path& file, const DicomInstance& inst,
                       const std::vector<std::int32_t>& before, const std::vector<std::int32_t>& after,
                       bool source_layout) {
  // Only the samples from the first to the last change are read and written
  // back (the face is a small part of a slice); the rest of the file is never touched.
  const std::size_t first = firstDifference(after.data(), before.data(), std::min(after.size(), before.size()));
  if (before.size() == after.size() && first == after.size()) return;
  Fd f{::open(file.c_str(), O_RDWR | O_CLOEXEC)};
  if (f.fd < 0) throw Error(file, "cannot open for writing");
  std::optional<NativePixelLocation> found;
  if (source_layout) found = atRecordedOffset(f.fd, inst);
  const NativePixelLocation loc = found ? *found : locateNativePixelData(file, inst);
  const std::size_t bytes = inst.bits_allocated / 8u;
  if (before.size() != after.size() || before.size() * bytes > loc.length)
    throw Error(file, "decoded pixel count does not match PixelData");
  const std::size_t last = endOfDifferences(after.data(), before.data(), first, after.size());
  const std::uint64_t at = loc.offset + std::uint64_t{first} * bytes;
  std::string raw((last - first) * bytes, '\0');
  if (!preadAll(f.fd, raw.data(), raw.size(), at)) throw Error(file, "cannot read PixelData");
  if (bytes == 2 && !loc.big_endian) {
    // The common CT word, without putStoredSample's per-sample byte loop: the
    // same bits (the BitsStored bits at HighBit replaced, the rest kept).
    const unsigned bits = inst.bits_stored, shift = inst.high_bit + 1u >= bits ? inst.high_bit + 1u - bits : 0u;
    const std::uint64_t mask = ((bits >= 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1)) << shift) & 0xFFFFFFFFull;
    auto* p = reinterpret_cast<unsigned char*>(raw.data());
    for (std::size_t n = first; n < last; ++n) {
      if (after[n] == before[n]) continue;
      unsigned char* w = p + (n - first) * 2;
      const std::uint64_t word = std::uint64_t{w[0]} | (std::uint64_t{w[1]} << 8);
      const std::uint64_t v = (word & ~mask) | ((static_cast<std::uint64_t>(static_cast<std::uint32_t>(after[n])) << shift) & mask);
      w[0] = static_cast<unsigned char>(v & 0xFF);
      w[1] = static_cast<unsigned char>((v >> 8) & 0xFF);
    }
  } else {
    for (std::size_t n = first; n < last; ++n)
      if (after[n] != before[n]) putStoredSample(raw, n - first, after[n], inst, loc.big_endian);
  }
  if (!pwriteAll(f.fd, raw.data(), raw.size(), at)) throw Error(file, std::string("cannot write PixelData: ") + std::strerror(errno));
  if (::close(f.fd) != 0) {
    f.fd = -1;
    throw Error(file, std::string("cannot write PixelData: ") + std::strerror(errno));
  }
  f.fd = -1;
}

}  // namespace ctd
