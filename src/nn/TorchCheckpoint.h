#pragma once
// Reads a PyTorch (>= 1.6, zip format) checkpoint as nnU-Net v2's trainer saves it, without Python:
// only `network_weights` (the state_dict) is materialised; optimizer state and other objects are
// skipped as opaque values and their storages never read.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/Tensor.h"

namespace ctd::nn {

struct CheckpointContents {
  // state_dict order, e.g. "encoder.stages.0.0.convs.0.conv.weight" -> tensor (float32, contiguous).
  std::vector<std::pair<std::string, Tensor>> network_weights;
  std::optional<std::vector<int>> inference_allowed_mirroring_axes;  // absent when not in the file
  std::string trainer_name;                                          // empty when not in the file

  const Tensor* find(const std::string& name) const {
    for (const auto& [n, t] : network_weights)
      if (n == name) return &t;
    return nullptr;
  }
};

// Throws ctd::Error (one line, naming the file) for: a legacy (non-zip) torch.save file, a truncated or
// corrupted zip, a pickle that is malformed or ends early, a missing storage record, no network_weights,
// or an unsupported tensor dtype.
CheckpointContents readCheckpoint(const std::filesystem::path& path);

}  // namespace ctd::nn
