// Fuzz target: the nnU-Net plans.json + dataset.json reader. One input =
// plans, marker, dataset; the configuration asked for is 3d_fullres (the one
// CTA-DEFACE uses). Only ctd::Error may come out, whatever the JSON holds.
#include <cstddef>
#include <cstdint>

#include "FuzzScratch.h"
#include "core/Error.h"
#include "nn/NnunetPlans.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto dir = ctd::fuzz::scratchDir();
  const auto parts = ctd::fuzz::splitInput(data, size, 2);
  ctd::fuzz::writeFile(dir / "plans.json", parts[0]);
  ctd::fuzz::writeFile(dir / "dataset.json", parts.size() > 1 ? parts[1] : std::string_view("{}"));
  for (const char* configuration : {"3d_fullres", "2d"}) {
    try {
      const ctd::nn::NnunetPlans p = ctd::nn::loadPlans(dir / "plans.json", dir / "dataset.json", configuration);
      (void)p;
    } catch (const ctd::Error&) {
    }
  }
  return 0;
}
