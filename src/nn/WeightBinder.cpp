#include "nn/WeightBinder.h"

#include "core/Error.h"

namespace ctd::nn {

namespace {
const std::string kMismatch = "checkpoint does not match the plans: ";
}

const Tensor& WeightBinder::take(const WeightRef& ref) {
  const Tensor* t = checkpoint_.find(ref.name);
  if (!t) throw Error(kMismatch + "tensor " + ref.name + " " + shapeString(ref.shape) + " is missing from network_weights");
  if (t->shape != ref.shape)
    throw Error(kMismatch + "tensor " + ref.name + " has shape " + shapeString(t->shape) + " in the checkpoint but the plans need " +
                shapeString(ref.shape));
  taken_.insert(ref.name);
  return *t;
}

void WeightBinder::expectAllTaken(int n_stages) const {
  for (const auto& [name, t] : checkpoint_.network_weights) {
    if (taken_.count(name) || UNetSpec::isUnusedAlias(name, n_stages)) continue;
    throw Error(kMismatch + "tensor " + name + " " + shapeString(t.shape) +
                " in the checkpoint has no place in the network the plans describe");
  }
}

}  // namespace ctd::nn
