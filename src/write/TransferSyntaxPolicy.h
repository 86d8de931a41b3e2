#pragma once
// How the write side treats each source transfer syntax (see docs/write-side.md):
// uncompressed files are patched in place, lossless-compressed files are
// re-encoded in their own syntax, lossy (or unknown) ones become Explicit VR
// Little Endian (re-compressing lossy data would lose more of it), and so do
// deflated ones (see FileRewriter.cpp for why).
#include <string>

namespace ctd {

enum class SyntaxRoute {
  PatchInPlace,     // Implicit LE, Explicit LE, Explicit BE: only PixelData bytes change
  Deflated,         // Deflated Explicit LE: written as Explicit VR LE (see FileRewriter.cpp)
  LosslessReencode, // JPEG lossless, JPEG-LS lossless, J2K lossless, RLE: same syntax
  ToExplicitLE,     // lossy or anything else: decompressed to Explicit VR LE
};

inline constexpr const char* kExplicitVRLittleEndian = "1.2.840.10008.1.2.1";

SyntaxRoute routeFor(const std::string& transfer_syntax_uid);

// Short human name of a transfer syntax for notes, e.g. "JPEG-LS lossless".
std::string syntaxName(const std::string& transfer_syntax_uid);

}  // namespace ctd
