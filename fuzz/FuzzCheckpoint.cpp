// Fuzz target: the PyTorch checkpoint reader (zip container, pickle, tensor
// storages) on arbitrary bytes. Only ctd::Error may come out.
#include <cstddef>
#include <cstdint>

#include "FuzzScratch.h"
#include "core/Error.h"
#include "nn/TorchCheckpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = ctd::fuzz::scratchDir() / "checkpoint_final.pth";
  ctd::fuzz::writeFile(file, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    const ctd::nn::CheckpointContents c = ctd::nn::readCheckpoint(file);
    (void)c;
  } catch (const ctd::Error&) {
  }
  return 0;
}
