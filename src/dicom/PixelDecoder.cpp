#include "dicom/PixelDecoder.h"

#include <gdcmByteValue.h>
#include <gdcmDataSet.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmTransferSyntax.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "core/Error.h"
#include "dicom/ForkPolicy.h"
#include "dicom/GdcmQuiet.h"

namespace ctd {
namespace {

// Compressed streams can be much smaller than the pixels they hold, but not
// without bound: this caps what a corrupt header can make us allocate.
constexpr std::uint64_t kMaxCompressionRatio = 2000;
constexpr std::uint64_t kMinAllowedBytes = 64ull << 20;

void checkHeader(const DicomInstance& inst) {
  const auto& file = inst.path;
  if (!inst.has_pixel_data) throw Error(file, "no PixelData to decode");
  if (inst.samples_per_pixel != 1)
    throw Error(file, "SamplesPerPixel " + std::to_string(inst.samples_per_pixel) +
                          " (colour) is not supported: only single-sample greyscale CT");
  if (inst.bits_allocated != 8 && inst.bits_allocated != 16)
    throw Error(file, "BitsAllocated " + std::to_string(inst.bits_allocated) + " is not supported (8 or 16 only)");
  if (inst.bits_stored == 0 || inst.bits_stored > inst.bits_allocated || inst.high_bit >= inst.bits_allocated ||
      inst.high_bit + 1 < inst.bits_stored)
    throw Error(file, "inconsistent BitsStored " + std::to_string(inst.bits_stored) + " / HighBit " +
                          std::to_string(inst.high_bit) + " for BitsAllocated " + std::to_string(inst.bits_allocated));
  if (inst.rows == 0 || inst.columns == 0) throw Error(file, "Rows or Columns is 0");

  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(file, ec);
  if (ec) throw Error(file, "cannot read file: " + ec.message());
  const std::uint64_t bytes = std::uint64_t(inst.rows) * inst.columns * inst.number_of_frames * (inst.bits_allocated / 8);
  const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(inst.transfer_syntax.c_str());
  const bool encapsulated = ts.IsEncapsulated() || ts == gdcm::TransferSyntax::DeflatedExplicitVRLittleEndian;
  if (!encapsulated && bytes > file_size)
    throw Error(file, "Rows x Columns x frames (" + std::to_string(inst.rows) + " x " + std::to_string(inst.columns) +
                          " x " + std::to_string(inst.number_of_frames) + ") needs " + std::to_string(bytes) +
                          " bytes but the file has " + std::to_string(file_size));
  if (encapsulated && bytes > std::max(kMinAllowedBytes, file_size * kMaxCompressionRatio))
    throw Error(file, "Rows x Columns x frames is implausibly large for a " + std::to_string(file_size) + "-byte file");
}

// Stored value of one word: the BitsStored bits ending at HighBit, sign-extended
// when PixelRepresentation is 1 (bits above HighBit are ignored, as PS3.5 8.1.1 says).
struct BitLayout {
  unsigned shift, bits;
  bool is_signed;
  std::int32_t operator()(std::uint32_t word) const {
    const std::uint32_t v = (word >> shift) & ((1u << bits) - 1u);
    if (is_signed && (v >> (bits - 1)) & 1u) return static_cast<std::int32_t>(v) - static_cast<std::int32_t>(1u << bits);
    return static_cast<std::int32_t>(v);
  }
};

// Native PixelData must hold exactly Rows x Columns x frames samples (one
// byte of padding to an even length allowed): GDCM sizes its buffer from the
// header and would quietly read a short value short or ignore a long one.
void checkNativeLength(const DicomInstance& inst, const gdcm::DataSet& ds) {
  const gdcm::Tag pixel_data(0x7FE0, 0x0010);
  if (!ds.FindDataElement(pixel_data)) throw Error(inst.path, "no PixelData to decode");
  const gdcm::ByteValue* bv = ds.GetDataElement(pixel_data).GetByteValue();
  if (!bv) return;  // encapsulated: the codec checks its own stream
  const std::uint64_t expected =
      std::uint64_t(inst.rows) * inst.columns * inst.number_of_frames * inst.samples_per_pixel * (inst.bits_allocated / 8);
  const std::uint64_t length = bv->GetLength();
  if (length != expected && !(expected % 2 == 1 && length == expected + 1))
    throw Error(inst.path, "PixelData holds " + std::to_string(length) + " bytes but Rows x Columns x frames (" +
                               std::to_string(inst.rows) + " x " + std::to_string(inst.columns) + " x " +
                               std::to_string(inst.number_of_frames) + ") at BitsAllocated " +
                               std::to_string(inst.bits_allocated) + " needs " + std::to_string(expected));
}

// GDCM's RLE decoder trusts each frame's 64-byte RLE header (PS3.5 G.3.1): a
// corrupt segment count or offset makes it read far outside the header and
// crash. Every frame's header is checked from the file before GDCM sees it.
void checkRleHeaders(const DicomInstance& inst) {
  const auto& file = inst.path;
  std::ifstream in(file, std::ios::binary);
  const std::uint64_t from = inst.pixel_data_offset >= 12 ? inst.pixel_data_offset - 12 : 0;
  in.seekg(static_cast<std::streamoff>(from));
  const std::string b((std::istreambuf_iterator<char>(in)), {});
  const auto u32 = [&](std::size_t at) {
    return std::uint32_t(std::uint8_t(b[at])) | std::uint32_t(std::uint8_t(b[at + 1])) << 8 |
           std::uint32_t(std::uint8_t(b[at + 2])) << 16 | std::uint32_t(std::uint8_t(b[at + 3])) << 24;
  };
  const std::size_t tag = b.find(std::string("\xE0\x7F\x10\x00", 4));
  if (inst.pixel_data_offset == 0 || tag == std::string::npos || tag > 12)
    throw Error(file, "RLE PixelData not found where the header ends");
  std::vector<std::pair<std::size_t, std::uint32_t>> fragments;  // value offset, length
  std::size_t at = tag + 12;
  for (bool first = true;; first = false) {
    if (at + 8 > b.size()) throw Error(file, "RLE PixelData ends inside its item headers");
    const std::uint32_t item = u32(at), length = u32(at + 4);
    if (item == 0xE0DDFFFEu) break;
    if (item != 0xE000FFFEu || length == 0xFFFFFFFFu || at + 8 + length > b.size())
      throw Error(file, "RLE PixelData has a broken item at offset " + std::to_string(from + at));
    if (!first) fragments.emplace_back(at + 8, length);  // the first item is the offset table
    at += 8 + length;
  }
  if (fragments.empty()) throw Error(file, "RLE PixelData holds no fragment");
  // One fragment per frame is the rule; otherwise only the first starts with a header.
  const std::size_t headers = fragments.size() == inst.number_of_frames ? fragments.size() : 1;
  const std::uint32_t segments = inst.samples_per_pixel * (inst.bits_allocated / 8u);
  for (std::size_t f = 0; f < headers; ++f) {
    const auto [v, length] = fragments[f];
    const auto refuse = [&](const std::string& why) {
      throw Error(file, "corrupt RLE header of frame " + std::to_string(f + 1) + ": " + why);
    };
    if (length < 64) refuse("fragment of " + std::to_string(length) + " bytes");
    const std::uint32_t n = u32(v);
    if (n != segments) refuse(std::to_string(n) + " segments, expected " + std::to_string(segments));
    std::uint32_t previous = 0;
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::uint32_t offset = u32(v + 4 + 4 * k);
      if ((k == 0 && offset != 64) || (k > 0 && offset <= previous) || offset >= length)
        refuse("segment " + std::to_string(k + 1) + " at offset " + std::to_string(offset) + " of " +
               std::to_string(length));
      previous = offset;
    }
  }
}

}  // namespace

void checkPixelHeader(const DicomInstance& inst) { checkHeader(inst); }

DecodedFrames decodePixels(const DicomInstance& inst) {
  DecodedFrames out;
  decodePixelsInto(inst, out);
  return out;
}

namespace {

// The GDCM decode itself (header already checked).
void decodeInProcess(const DicomInstance& inst, DecodedFrames& out) {
  const auto& file = inst.path;
  gdcm::ImageReader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.Read()) throw Error(file, "GDCM cannot read the image (transfer syntax " + inst.transfer_syntax + ")");
  const gdcm::Image& img = reader.GetImage();
  checkNativeLength(inst, reader.GetFile().GetDataSet());
  const gdcm::PixelFormat pf = img.GetPixelFormat();
  if (pf.GetSamplesPerPixel() != 1)
    throw Error(file, "SamplesPerPixel " + std::to_string(pf.GetSamplesPerPixel()) + " is not supported");
  if (pf.GetBitsAllocated() != 8 && pf.GetBitsAllocated() != 16)
    throw Error(file, "BitsAllocated " + std::to_string(pf.GetBitsAllocated()) + " is not supported (8 or 16 only)");

  const unsigned* dims = img.GetDimensions();
  out.columns = static_cast<std::uint16_t>(dims[0]);
  out.rows = static_cast<std::uint16_t>(dims[1]);
  out.frames = img.GetNumberOfDimensions() > 2 ? dims[2] : 1;
  if (out.rows != inst.rows || out.columns != inst.columns || out.frames != inst.number_of_frames)
    throw Error(file, "decoded image size does not match Rows/Columns/NumberOfFrames");
  const std::size_t count = std::size_t(out.rows) * out.columns * out.frames;
  const std::size_t bytes_per = pf.GetBitsAllocated() / 8;
  const std::size_t expected = count * bytes_per;
  if (img.GetBufferLength() != expected)
    throw Error(file, "PixelData holds " + std::to_string(img.GetBufferLength()) + " bytes, expected " +
                          std::to_string(expected) + " (Rows x Columns x frames x bytes)");
  // Decode straight into words of the right type (GDCM writes through char*).
  thread_local std::vector<std::uint16_t> words;
  thread_local std::vector<std::uint8_t> bytes;
  (bytes_per == 2 ? words.resize(count) : bytes.resize(count));
  char* target = bytes_per == 2 ? reinterpret_cast<char*>(words.data()) : reinterpret_cast<char*>(bytes.data());
  if (!img.GetBuffer(target))
    throw Error(file, "cannot decode PixelData (transfer syntax " + inst.transfer_syntax + ")");

  const unsigned bits = std::clamp<unsigned>(pf.GetBitsStored(), 1, pf.GetBitsAllocated());
  const unsigned high = std::clamp<unsigned>(pf.GetHighBit(), bits - 1, pf.GetBitsAllocated() - 1u);
  const BitLayout layout{high + 1 - bits, bits, pf.GetPixelRepresentation() == 1};
  out.stored.resize(count);
  if (bytes_per == 2 && bits == 16) {
    // Fast path for the common case: no masking needed.
    if (layout.is_signed)
      for (std::size_t i = 0; i < count; ++i) out.stored[i] = static_cast<std::int16_t>(words[i]);
    else
      for (std::size_t i = 0; i < count; ++i) out.stored[i] = words[i];
  } else if (bytes_per == 2) {
    for (std::size_t i = 0; i < count; ++i) out.stored[i] = layout(words[i]);
  } else {
    for (std::size_t i = 0; i < count; ++i) out.stored[i] = layout(bytes[i]);
  }
}

// Debian's GDCM is built with assertions, and its compressed-pixel paths
// abort or crash on some corrupt streams: a libjpeg warning reaches assert(0)
// in JPEGBITSCodec::GetHeaderInfo, a bad RLE table reads out of bounds (both
// found by fuzz/FuzzDicomSeries). No header check can foresee every such
// stream, so compressed files are decoded in a forked child: a crash there
// fails this file with a clear error instead of ending the whole run. The
// child writes the stored values into shared memory (one fork and copy per
// compressed file; native files never come here).
struct SharedResult {
  int ok = 0;
  char message[512] = {};
};

void decodeIsolated(const DicomInstance& inst, DecodedFrames& out) {
  const std::size_t count = std::size_t(inst.rows) * inst.columns * inst.number_of_frames;
  const std::size_t bytes = sizeof(SharedResult) + count * sizeof(std::int32_t);
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw Error(inst.path, std::string("cannot map memory to decode: ") + std::strerror(errno));
  struct Unmap {
    void* p;
    std::size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{mem, bytes};
  auto* result = new (mem) SharedResult;
  auto* values = reinterpret_cast<std::int32_t*>(static_cast<char*>(mem) + sizeof(SharedResult));
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(inst.path, std::string("cannot start the decoder process: ") + std::strerror(errno));
  if (pid == 0) {
    // The default action for a crash here: the parent reads it from the exit
    // status (a sanitizer's or fuzzer's handler would report it as its own).
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, SIG_DFL);
    try {
      DecodedFrames d;
      decodeInProcess(inst, d);
      if (d.stored.size() == count) {
        std::memcpy(values, d.stored.data(), count * sizeof(std::int32_t));
        result->ok = 1;
      } else {
        std::snprintf(result->message, sizeof result->message, "decoded %zu values, expected %zu", d.stored.size(), count);
      }
    } catch (const std::exception& e) {
      // Error's text names the file; keep the reason after it.
      std::string why = e.what();
      const std::string prefix = inst.path.string() + ": ";
      if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
      std::snprintf(result->message, sizeof result->message, "%s", why.c_str());
    }
    ::_exit(0);
  }
  // A decoder that never returns (a corrupt stream looping, or a lock that the
  // fork copied while another thread held it) must not hang the run: the file
  // fails after kDecodeTimeout instead.
  constexpr auto kDecodeTimeout = std::chrono::minutes(5);
  const auto deadline = std::chrono::steady_clock::now() + kDecodeTimeout;
  int status = 0;
  for (auto pause = std::chrono::microseconds(50);;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) throw Error(inst.path, std::string("lost the decoder process: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      throw Error(inst.path, "the decoder did not finish within 5 minutes on this file's compressed pixel data");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  if (WIFSIGNALED(status))
    throw Error(inst.path, "the decoder crashed on this file's compressed pixel data (signal " +
                               std::to_string(WTERMSIG(status)) + ", transfer syntax " + inst.transfer_syntax +
                               "): corrupt stream");
  if (!WIFEXITED(status) || !result->ok)
    throw Error(inst.path, result->message[0] ? result->message : "cannot decode PixelData");
  out.rows = inst.rows;
  out.columns = inst.columns;
  out.frames = inst.number_of_frames;
  out.stored.assign(values, values + count);
}

}  // namespace

void alwaysIsolateCompressedDecode(bool on) { alwaysIsolateGdcm(on); }

void decodePixelsInto(const DicomInstance& inst, DecodedFrames& out) {
  quietGdcm();
  checkHeader(inst);
  if (inst.transfer_syntax == "1.2.840.10008.1.2.5") checkRleHeaders(inst);
  const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(inst.transfer_syntax.c_str());
  if (ts.IsEncapsulated() && gdcmIsolationIsForkSafe()) decodeIsolated(inst, out);
  else decodeInProcess(inst, out);
}

namespace {

// Closes the descriptor on every path out of readNativeWords.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly `n` bytes at `offset`; false on a short read or an error.
bool preadAll(int fd, void* dst, std::size_t n, std::uint64_t offset) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

std::uint32_t le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

}  // namespace

bool readNativeWords(const DicomInstance& inst, std::vector<std::uint16_t>& words) {
  if constexpr (std::endian::native != std::endian::little) return false;
  if (inst.pixel_data_offset == 0 || inst.samples_per_pixel != 1 || inst.bits_allocated != 16) return false;
  if (inst.transfer_syntax != "1.2.840.10008.1.2" && inst.transfer_syntax != "1.2.840.10008.1.2.1") return false;
  if (inst.photometric != "MONOCHROME1" && inst.photometric != "MONOCHROME2") return false;
  checkHeader(inst);
  // GDCM shifts words whose HighBit is not BitsStored - 1 in its own way: leave those to it.
  if (inst.high_bit + 1 != inst.bits_stored) return false;

  const std::size_t count = std::size_t(inst.rows) * inst.columns * inst.number_of_frames;
  const std::uint64_t bytes = std::uint64_t(count) * 2;
  Fd f{::open(inst.path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return false;
  // The element header: tag (7FE0,0010), then either VR OW/OB, 2 reserved
  // bytes and a 32-bit length (explicit VR) or a 32-bit length (implicit VR).
  // GDCM's stream stops after it (or, in other versions, at the tag): look
  // there, and take the value only when the tag matches and the length is
  // exactly Rows x Columns x frames words (an odd 'OW'/'OB' read as an
  // implicit length never equals it).
  std::uint64_t value_at = 0;
  const std::uint64_t at = inst.pixel_data_offset;
  for (const std::uint64_t tag_at : {at >= 12 ? at - 12 : at, at >= 8 ? at - 8 : at, at}) {
    unsigned char head[12];
    if (!preadAll(f.fd, head, sizeof head, tag_at)) continue;
    if (head[0] != 0xE0 || head[1] != 0x7F || head[2] != 0x10 || head[3] != 0x00) continue;
    const bool explicit_vr = head[4] == 'O' && (head[5] == 'W' || head[5] == 'B') && head[6] == 0 && head[7] == 0;
    if (explicit_vr && le32(head + 8) == bytes) value_at = tag_at + 12;
    else if (le32(head + 4) == bytes) value_at = tag_at + 8;
    if (value_at) break;
  }
  if (value_at == 0) return false;
  words.resize(count);
  return preadAll(f.fd, words.data(), bytes, value_at);
}

namespace {

// hu[i] = float(stored(words[i]) * slope + intercept) in blocks of a fixed
// length, which GCC vectorises at -O2 (its cheap cost model wants a known trip count).
template <class Stored>
void wordsToHu(const std::uint16_t* words, std::size_t count, double slope, double intercept, float* hu,
               Stored stored) {
  constexpr std::size_t kBlock = 64;
  std::size_t i = 0;
  for (; i + kBlock <= count; i += kBlock)
    for (std::size_t b = 0; b < kBlock; ++b) hu[i + b] = static_cast<float>(stored(words[i + b]) * slope + intercept);
  for (; i < count; ++i) hu[i] = static_cast<float>(stored(words[i]) * slope + intercept);
}

}  // namespace

void nativeWordsToHu(const DicomInstance& inst, const std::uint16_t* words, std::size_t count, double slope,
                     double intercept, float* hu) {
  // Same arithmetic as stored (int32) * slope + intercept on decodePixels'
  // values: the int -> double conversion is exact either way.
  const unsigned bits = inst.bits_stored;
  const bool is_signed = inst.pixel_representation == 1;
  if (bits == 16 && is_signed) {
    wordsToHu(words, count, slope, intercept, hu, [](std::uint16_t w) { return std::int32_t(std::int16_t(w)); });
  } else if (bits == 16) {
    wordsToHu(words, count, slope, intercept, hu, [](std::uint16_t w) { return std::int32_t(w); });
  } else {
    const BitLayout layout{0, bits, is_signed};
    wordsToHu(words, count, slope, intercept, hu, layout);
  }
}

}  // namespace ctd
