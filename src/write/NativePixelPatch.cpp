#include "write/NativePixelPatch.h"

#include <gdcmReader.h>
#include <gdcmTag.h>

#include <fstream>
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
                       const std::vector<std::int32_t>& before, const std::vector<std::int32_t>& after) {
  const NativePixelLocation loc = locateNativePixelData(file, inst);
  const std::size_t bytes = inst.bits_allocated / 8u;
  if (before.size() != after.size() || before.size() * bytes > loc.length)
    throw Error(file, "decoded pixel count does not match PixelData");
  // Only the samples from the first to the last change are read and written
  // back (the face is a small part of a slice); the rest of the file is never touched.
  std::size_t first = 0, last = after.size();
  while (first < after.size() && after[first] == before[first]) ++first;
  if (first == after.size()) return;
  while (last > first && after[last - 1] == before[last - 1]) --last;
  const std::uint64_t at = loc.offset + std::uint64_t{first} * bytes;
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  if (!io) throw Error(file, "cannot open for writing");
  std::string raw((last - first) * bytes, '\0');
  io.seekg(static_cast<std::streamoff>(at));
  io.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (!io) throw Error(file, "cannot read PixelData");
  for (std::size_t n = first; n < last; ++n)
    if (after[n] != before[n]) putStoredSample(raw, n - first, after[n], inst, loc.big_endian);
  io.seekp(static_cast<std::streamoff>(at));
  io.write(raw.data(), static_cast<std::streamsize>(raw.size()));
  io.flush();
  if (!io) throw Error(file, "cannot write PixelData");
}

}  // namespace ctd
