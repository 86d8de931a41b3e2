#include "dicom/ElementWalk.h"

#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace ctd {
namespace {

constexpr std::uint32_t kUndefined = 0xFFFFFFFFu;
constexpr int kMaxDepth = 64;

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string tagText(std::uint16_t g, std::uint16_t e) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "(%04X,%04X)", g, e);
  return g == 0x7FE0 && e == 0x0010 ? std::string(buf) + " PixelData" : std::string(buf);
}

bool knownVr(std::string_view vr) {
  for (std::string_view v : {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD",
                             "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI",
                             "UL", "UN", "UR", "US", "UT", "UV"})
    if (vr == v) return true;
  return false;
}

bool longVr(std::string_view vr) {
  for (std::string_view v : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
    if (vr == v) return true;
  return false;
}

class Walker {
 public:
  // Reads from the file (fd >= 0) or, for an inflated data set, from `memory`.
  Walker(int fd, const std::string* memory, std::uint64_t size, ElementEncoding enc)
      : fd_(fd), memory_(memory), size_(size), enc_(enc) {}

  // Elements from `pos` to `end` (the end of a defined-length item or of the
  // file), or to an item delimiter when `end` is undefined (0).
  bool dataSet(std::uint64_t& pos, std::uint64_t end, int depth) {
    if (depth > kMaxDepth) return corrupt("sequences nested deeper than " + std::to_string(kMaxDepth), pos);
    const std::uint64_t limit = end ? end : size_;
    // An undefined-length item (depth > 0, no end) must meet its delimiter.
    const bool needs_delimiter = depth > 0 && !end;
    while (pos < limit) {
      unsigned char h[12];
      if (pos + 8 > size_) return truncated("an element header", pos, 8);
      if (!read(h, 8, pos)) return giveUp();
      const std::uint16_t g = u16(h), e = u16(h + 2);
      if (g == 0xFFFE) {
        pos += 8;
        if (e == 0xE00D && needs_delimiter) return true;  // item delimitation: this item ends
        if (e == 0xE00D || e == 0xE0DD) continue;  // stray delimiter: GDCM skips it
        return corrupt("item tag " + tagText(g, e) + " outside a sequence", pos - 8);
      }
      std::uint64_t value_at = pos + 8;
      std::uint32_t length = 0;
      std::string_view vr;
      char vr_buf[2] = {char(h[4]), char(h[5])};
      vr = std::string_view(vr_buf, 2);
      // GDCM's retry reads such an element little-endian, whatever the syntax:
      // in a big-endian data set nothing can be said of its length.
      if (enc_ == ElementEncoding::ExplicitBig && !knownVr(vr))
        return corrupt("element " + tagText(g, e) + " without a valid VR in a big-endian data set", pos);
      if (enc_ == ElementEncoding::ImplicitLittle || !knownVr(vr)) {
        // No VR where one belongs: GDCM retries such a file as a mix of
        // explicit and implicit elements and then allocates this 4-byte
        // length before reading it (gigabytes for a few corrupt bytes).
        vr = {};
        length = u32(h + 4);
      } else {
        if (longVr(vr)) {
          if (pos + 12 > size_) return truncated("the header of " + tagText(g, e), pos, 12);
          if (!read(h + 8, 4, pos + 8)) return giveUp();
          length = u32(h + 8);
          value_at = pos + 12;
        } else {
          length = u16(h + 6);
        }
      }
      if (length == kUndefined) {
        if (vr == "UN") return giveUp();  // implicit VR inside (CP-246): GDCM's business
        pos = value_at;
        if (!items(pos, depth + 1, tagText(g, e))) return false;
        if (done_) return true;
        if (end && pos > end)
          return corrupt("sequence " + tagText(g, e) + " runs past the end of its item (at offset " +
                             std::to_string(end) + ")",
                         value_at);
        continue;
      }
      if (value_at + length > size_) {
        if (vr.empty() && enc_ != ElementEncoding::ImplicitLittle) {
          why = "corrupt file: element " + tagText(g, e) + " at offset " + std::to_string(pos) +
                " has no valid VR, and read without one its length (" + std::to_string(length) +
                " bytes) runs past the end of the file";
          return false;
        }
        return truncated(tagText(g, e), value_at, length);
      }
      // GDCM reads such an element whole and then goes on from inside the
      // next element: misaligned, it took pixel bytes for a 3 GB length
      // (FuzzDicomSeries finding, in discovery's study probe).
      if (end && value_at + length > end)
        return corrupt("element " + tagText(g, e) + " runs past the end of its item (at offset " +
                           std::to_string(end) + ")",
                       pos);
      // GDCM parses the items of a defined-length sequence too.
      if (vr == "SQ" && length > 0) {
        std::uint64_t inner = value_at;
        if (!items(inner, depth + 1, tagText(g, e), value_at + length)) return false;
        if (done_) return true;
      }
      pos = value_at + length;
    }
    if (needs_delimiter) return truncated("the item delimiter", pos, 8);
    return true;
  }

  bool giveUp() {
    done_ = true;
    return true;
  }
  bool done() const { return done_; }
  std::string why;

 private:
  // Items of an undefined-length sequence (or fragments of encapsulated
  // pixel data) up to the sequence delimiter.
  // `end`: the end of a defined-length sequence (0: up to its delimiter).
  bool items(std::uint64_t& pos, int depth, const std::string& owner, std::uint64_t end = 0) {
    if (depth > kMaxDepth) return corrupt("sequences nested deeper than " + std::to_string(kMaxDepth), pos);
    for (;;) {
      if (end && pos == end) return true;
      if (end && pos + 8 > end) return corrupt("an item of " + owner + " running past the sequence's length", pos);
      unsigned char h[8];
      if (pos + 8 > size_) return truncated("an item of " + owner, pos, 8);
      if (!read(h, 8, pos)) return giveUp();
      const std::uint16_t g = u16(h), e = u16(h + 2);
      const std::uint32_t length = u32(h + 4);
      pos += 8;
      if (g != 0xFFFE || (e != 0xE000 && e != 0xE0DD))
        return corrupt(tagText(g, e) + " where an item of " + owner + " belongs", pos - 8);
      if (e == 0xE0DD) return true;  // sequence delimitation
      if (length == kUndefined) {
        if (!dataSet(pos, 0, depth + 1)) return false;
        if (done_) return true;
        continue;
      }
      if (pos + length > size_) return truncated("an item of " + owner, pos, length);
      if (end && pos + length > end) return corrupt("an item of " + owner + " longer than the sequence", pos - 8);
      // Nested data sets of defined length are walked too; fragments are opaque.
      if (owner != "(7FE0,0010) PixelData") {
        std::uint64_t inner = pos;
        if (!dataSet(inner, pos + length, depth + 1)) return false;
        if (done_) return true;
      }
      pos += length;
    }
  }

  // GDCM meets these with a parse error, retries the file as a mix of
  // explicit and implicit elements and can then allocate gigabytes.
  bool corrupt(const std::string& what, std::uint64_t at) {
    why = "corrupt file: " + what + " at offset " + std::to_string(at);
    return false;
  }

  bool truncated(const std::string& what, std::uint64_t at, std::uint64_t length) {
    why = "truncated file: " + what + " needs " + std::to_string(length) + " bytes at offset " +
          std::to_string(at) + " but the file ends at " + std::to_string(size_);
    return false;
  }

  bool read(unsigned char* dst, std::size_t n, std::uint64_t at) const {
    if (memory_) {
      if (at + n > memory_->size()) return false;
      std::memcpy(dst, memory_->data() + at, n);
      return true;
    }
    return ::pread(fd_, dst, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n);
  }
  std::uint16_t u16(const unsigned char* p) const {
    return enc_ == ElementEncoding::ExplicitBig ? std::uint16_t(p[0] << 8 | p[1]) : std::uint16_t(p[0] | p[1] << 8);
  }
  std::uint32_t u32(const unsigned char* p) const {
    if (enc_ == ElementEncoding::ExplicitBig)
      return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
  }

  int fd_;
  const std::string* memory_;
  std::uint64_t size_;
  ElementEncoding enc_;
  bool done_ = false;
};

// Inflates the raw deflate stream (PS3.5 A.5) after the meta group. Deflated
// CT is rare and compresses a few times at most, so the output is capped at
// 2000 x the stream (a "deflate bomb" is refused, not inflated).
bool inflateDataSet(int fd, std::uint64_t start, std::uint64_t size, std::string& out, std::string& why) {
  std::string in(size > start ? size - start : 0, '\0');
  if (!in.empty() && ::pread(fd, in.data(), in.size(), static_cast<off_t>(start)) != static_cast<ssize_t>(in.size()))
    return true;  // the caller's own read reports it
  const std::uint64_t cap = std::max<std::uint64_t>(64ull << 20, std::uint64_t(in.size()) * 2000);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return true;
  z.next_in = reinterpret_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[1 << 16];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > cap) {
      inflateEnd(&z);
      why = "corrupt file: the deflated data set inflates beyond " + std::to_string(cap) + " bytes";
      return false;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // stream cut short: walk what there is
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    why = "corrupt file: the deflated data set does not inflate (zlib error " + std::to_string(rc) + ")";
    return false;
  }
  return true;
}

}  // namespace

bool elementsFitInFile(const std::filesystem::path& file, std::uint64_t start, ElementEncoding encoding,
                       std::string& why) {
  Fd f{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return true;  // the caller's own open reports it
  const off_t size = ::lseek(f.fd, 0, SEEK_END);
  if (size < 0) return true;
  if (encoding == ElementEncoding::DeflatedExplicitLittle) {
    // GDCM inflates and parses the stream as it reads, allocating each
    // element's declared length: the inflated data set is walked the same way.
    std::string inflated;
    if (!inflateDataSet(f.fd, start, static_cast<std::uint64_t>(size), inflated, why)) return false;
    Walker w(-1, &inflated, inflated.size(), ElementEncoding::ExplicitLittle);
    std::uint64_t pos = 0;
    if (w.dataSet(pos, 0, 0)) return true;
    why = w.why + " (in the inflated data set)";
    return false;
  }
  Walker w(f.fd, nullptr, static_cast<std::uint64_t>(size), encoding);
  std::uint64_t pos = start;
  if (w.dataSet(pos, 0, 0)) return true;
  why = w.why;
  return false;
}

}  // namespace ctd
