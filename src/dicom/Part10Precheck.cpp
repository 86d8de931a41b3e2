#include "dicom/Part10Precheck.h"

#include <gdcmTransferSyntax.h>
#include <gdcmVR.h>

#include <cstdint>
#include <fstream>
#include <string_view>
#include <vector>

#include "dicom/ElementWalk.h"

namespace ctd {
namespace {

std::uint16_t u16(const unsigned char* p) { return std::uint16_t(p[0] | (p[1] << 8)); }
std::uint32_t u32(const unsigned char* p) {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}

// VRs with a 2-byte reserved field and a 32-bit length (PS3.5 7.1.2).
bool longVr(std::string_view vr) {
  for (std::string_view v : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
    if (vr == v) return true;
  return false;
}

}  // namespace

bool plausibleDicomStart(const std::filesystem::path& file, std::string& why) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = "cannot open file";
    return false;
  }
  // The meta group is small; 64 KiB covers any sane one.
  std::vector<unsigned char> buf(64 * 1024);
  in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size()));
  const std::size_t n = static_cast<std::size_t>(in.gcount());
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(file, ec);
  if (ec) {
    why = "cannot read file size";
    return false;
  }
  if (file_size == 0) {
    why = "empty file (0 bytes): not DICOM";
    return false;
  }

  if (n >= 132 && std::string_view(reinterpret_cast<const char*>(buf.data() + 128), 4) == "DICM") {
    std::size_t pos = 132, elements = 0;
    std::string syntax;
    while (pos + 8 <= n && u16(buf.data() + pos) == 0x0002) {
      const std::string_view vr(reinterpret_cast<const char*>(buf.data() + pos + 4), 2);
      // Letters that are no VR ("BI") also send GDCM's meta reader into an
      // assertion (fuzz finding): only the standard's VRs pass.
      const char vr_chars[3] = {vr[0], vr[1], '\0'};
      if (!gdcm::VR::IsValid(vr_chars) || vr == "SQ") {
        why = "malformed File Meta Information (bad VR)";
        return false;
      }
      std::uint64_t header = 8, length = u16(buf.data() + pos + 6);
      if (longVr(vr)) {
        if (pos + 12 > n) {
          // GDCM asserts when a meta element's length field is cut off by the end of the file.
          if (n == file_size) {
            why = "malformed File Meta Information (file ends inside an element header)";
            return false;
          }
          break;
        }
        header = 12;
        length = u32(buf.data() + pos + 8);
        if (length == 0xFFFFFFFFu) {
          why = "malformed File Meta Information (undefined length)";
          return false;
        }
      }
      if (pos + header + length > file_size) {
        why = "malformed File Meta Information (element runs past the end of the file)";
        return false;
      }
      if (u16(buf.data() + pos + 2) == 0x0010 && pos + header + length <= n) {
        syntax.assign(reinterpret_cast<const char*>(buf.data() + pos + header), length);
        while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
      }
      pos += static_cast<std::size_t>(header + length);
      ++elements;
    }
    if (elements == 0) {
      why = "no File Meta Information after the DICM prefix";
      return false;
    }
    // GDCM reads one tag past the meta group and asserts when the file ends there
    // (fuzz finding): a file that is only a meta group holds no data set anyway.
    if (pos + 8 > file_size) {
      why = "no data set after the File Meta Information (file ends there)";
      return false;
    }
    // GDCM cannot read a data set in a syntax it does not know (and would
    // guess): say which syntax it is.
    if (!syntax.empty() && gdcm::TransferSyntax::GetTSType(syntax.c_str()) == gdcm::TransferSyntax::TS_END) {
      why = "unknown transfer syntax " + syntax;
      return false;
    }
    const ElementEncoding enc = syntax == "1.2.840.10008.1.2.1.99" ? ElementEncoding::DeflatedExplicitLittle
                                : syntax == "1.2.840.10008.1.2"     ? ElementEncoding::ImplicitLittle
                                : syntax == "1.2.840.10008.1.2.2" ? ElementEncoding::ExplicitBig
                                                                  : ElementEncoding::ExplicitLittle;
    return elementsFitInFile(file, pos, enc, why);
  }
  // No preamble: old files start straight with the data set (group 0008) or
  // with a meta group; anything else is not DICOM.
  if (n >= 8) {
    const std::uint16_t group = u16(buf.data());
    // An implicit-VR meta group (no VR letters after the first tag) sends GDCM
    // down ReadImplicitDataElement, which asserts on a malformed one (fuzz
    // finding); such files are refused rather than half-trusted.
    const bool vr_letters = buf[4] >= 'A' && buf[4] <= 'Z' && buf[5] >= 'A' && buf[5] <= 'Z';
    if (group == 0x0002 && !vr_letters) {
      why = "File Meta Information without preamble and without VRs (implicit): not supported";
      return false;
    }
    // A bare data set: GDCM reads it guessing explicit or implicit VR element by
    // element and asserts on a malformed one (fuzz finding), so it is walked
    // first, as Part 10 files are.
    if (group == 0x0008)
      return elementsFitInFile(file, 0, vr_letters ? ElementEncoding::ExplicitLittle : ElementEncoding::ImplicitLittle,
                               why);
    if (group == 0x0002) return true;
  }
  why = "not a DICOM file (no DICM prefix and no DICOM element at the start)";
  return false;
}

}  // namespace ctd
