// Fuzz target: DICOM series assembly from bytes, as the product meets files.
// One input = up to 4 files (split at kFileMarker) in one case folder; then
// discovery, header reading, classification, series assembly, the memory
// estimate and pixel decoding of every stack and every other image. Broken
// input may only ever end in ctd::Error: a crash, an abort (GDCM assertion), a
// sanitizer report, a hang or a huge allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "ChildCoverage.h"
#include "FuzzScratch.h"
#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/ForkPolicy.h"
#include "dicom/IsolatedFilePass.h"
#include "dicom/MemoryBudget.h"
#include "dicom/PixelDecoder.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "volume/SliceThreads.h"

namespace {

// A small machine's --max-memory: larger series are refused from their headers
// (kept small so that the fuzzer's own RSS limit catches real over-allocation).
constexpr std::uint64_t kMemoryLimit = 64ull << 20;

void decodeEverything(const ctd::CaseInventory& inv) {
  for (const auto& stack : inv.stacks) {
    try {
      ctd::checkSeriesMemory(inv, stack, kMemoryLimit);
      const ctd::Volume v = ctd::loadVolume(inv, stack);
      (void)v;
    } catch (const ctd::Error&) {
    }
  }
  for (const auto& inst : inv.instances) {
    if (!inst.has_pixel_data) continue;
    try {
      const ctd::DecodedFrames d = ctd::decodePixels(inst);
      (void)d;
    } catch (const ctd::Error&) {
    }
  }
}

// An input that ended a child process (a GDCM assertion or crash in the
// header pass, failed by name as the product does) is handled, not a finding;
// with CTD_FUZZ_HANDLED_DIR set it is kept there, so that such inputs can be
// counted and replayed.
void keepHandled(const std::uint8_t* data, std::size_t size) {
  const char* dir = std::getenv("CTD_FUZZ_HANDLED_DIR");
  if (!dir) return;
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a: a stable name per input
  for (std::size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  char name[32];
  std::snprintf(name, sizeof name, "handled-%016llx", static_cast<unsigned long long>(h));
  std::filesystem::create_directories(dir);
  ctd::fuzz::writeFile(std::filesystem::path(dir) / name,
                       std::string_view(reinterpret_cast<const char*>(data), size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One thread, and the header pass and compressed decode isolated in child
  // processes although this is an ASan build (libFuzzer's own watchdog thread
  // does not allocate), so that a GDCM assertion ends the child, not the
  // fuzzer, as in the product.
  ctd::t_slice_thread_budget = 1;
  ctd::alwaysIsolateGdcm(true);
  ctd::fuzz::carryChildCoverage();
  const std::uint64_t casualties = ctd::isolatedPassCasualties();
  const auto dir = ctd::fuzz::freshFolder("case");
  const auto parts = ctd::fuzz::splitInput(data, size, 4);
  for (std::size_t i = 0; i < parts.size(); ++i)
    ctd::fuzz::writeFile(dir / ("IM" + std::to_string(i) + ".dcm"), parts[i]);
  try {
    const ctd::Discovery d = ctd::discoverCases(dir);
    for (const auto& c : d.cases) decodeEverything(ctd::assembleCase(c));
  } catch (const ctd::Error&) {
  }
  if (ctd::isolatedPassCasualties() != casualties) keepHandled(data, size);
  return 0;
}
