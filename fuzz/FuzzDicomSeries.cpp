// Fuzz target: DICOM series assembly from bytes, as the product meets files.
// One input = up to 4 files (split at kFileMarker) in one case folder; then
// discovery, header reading, classification, series assembly, the memory
// estimate and pixel decoding of every stack and every other image. Broken
// input may only ever end in ctd::Error: a crash, an abort (GDCM assertion), a
// sanitizer report, a hang or a huge allocation is a bug.
#include <cstddef>
#include <cstdint>

#include "FuzzScratch.h"
#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One thread, and the compressed decode isolated in a child process although
  // this is an ASan build (libFuzzer's own watchdog thread does not allocate), so
  // that a GDCM assertion ends the child, not the fuzzer, as in the product.
  ctd::t_slice_thread_budget = 1;
  ctd::alwaysIsolateCompressedDecode(true);
  const auto dir = ctd::fuzz::freshFolder("case");
  const auto parts = ctd::fuzz::splitInput(data, size, 4);
  for (std::size_t i = 0; i < parts.size(); ++i)
    ctd::fuzz::writeFile(dir / ("IM" + std::to_string(i) + ".dcm"), parts[i]);
  try {
    const ctd::Discovery d = ctd::discoverCases(dir);
    for (const auto& c : d.cases) decodeEverything(ctd::assembleCase(c));
  } catch (const ctd::Error&) {
  }
  return 0;
}
