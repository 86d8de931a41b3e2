#pragma once
// Hands the checkpoint's tensors to the layers that need them, checking each name and shape, and
// afterwards that nothing was left over: a plans/checkpoint mismatch is found at load, not as garbage output.
#include <set>
#include <string>

#include "nn/TorchCheckpoint.h"
#include "nn/UNetSpec.h"

namespace ctd::nn {

class WeightBinder {
 public:
  explicit WeightBinder(const CheckpointContents& checkpoint) : checkpoint_(checkpoint) {}

  // Throws ctd::Error naming the tensor when it is missing or its shape differs (both shapes given).
  const Tensor& take(const WeightRef& ref);
  // Throws ctd::Error naming the first checkpoint tensor no layer took (aliases excepted).
  void expectAllTaken(int n_stages) const;

 private:
  const CheckpointContents& checkpoint_;
  std::set<std::string> taken_;
};

}  // namespace ctd::nn
