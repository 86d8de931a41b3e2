#include "write/TransferSyntaxPolicy.h"

#include <map>

namespace ctd {
namespace {

struct SyntaxFacts {
  SyntaxRoute route;
  const char* name;
};

const std::map<std::string, SyntaxFacts>& knownSyntaxes() {
  static const std::map<std::string, SyntaxFacts> m = {
      {"1.2.840.10008.1.2", {SyntaxRoute::PatchInPlace, "Implicit VR Little Endian"}},
      {"1.2.840.10008.1.2.1", {SyntaxRoute::PatchInPlace, "Explicit VR Little Endian"}},
      {"1.2.840.10008.1.2.2", {SyntaxRoute::PatchInPlace, "Explicit VR Big Endian"}},
      {"1.2.840.10008.1.2.1.99", {SyntaxRoute::Deflated, "Deflated Explicit VR Little Endian"}},
      {"1.2.840.10008.1.2.4.57", {SyntaxRoute::LosslessReencode, "JPEG lossless"}},
      {"1.2.840.10008.1.2.4.70", {SyntaxRoute::LosslessReencode, "JPEG lossless SV1"}},
      {"1.2.840.10008.1.2.4.80", {SyntaxRoute::LosslessReencode, "JPEG-LS lossless"}},
      {"1.2.840.10008.1.2.4.90", {SyntaxRoute::LosslessReencode, "JPEG 2000 lossless"}},
      {"1.2.840.10008.1.2.5", {SyntaxRoute::LosslessReencode, "RLE lossless"}},
      {"1.2.840.10008.1.2.4.50", {SyntaxRoute::ToExplicitLE, "JPEG baseline (lossy)"}},
      {"1.2.840.10008.1.2.4.51", {SyntaxRoute::ToExplicitLE, "JPEG extended (lossy)"}},
      {"1.2.840.10008.1.2.4.81", {SyntaxRoute::ToExplicitLE, "JPEG-LS near-lossless"}},
      {"1.2.840.10008.1.2.4.91", {SyntaxRoute::ToExplicitLE, "JPEG 2000 (lossy)"}},
  };
  return m;
}

}  // namespace

SyntaxRoute routeFor(const std::string& uid) {
  const auto it = knownSyntaxes().find(uid);
  return it == knownSyntaxes().end() ? SyntaxRoute::ToExplicitLE : it->second.route;
}

std::string syntaxName(const std::string& uid) {
  const auto it = knownSyntaxes().find(uid);
  return it == knownSyntaxes().end() ? uid : it->second.name;
}

}  // namespace ctd
