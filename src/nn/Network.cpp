#include "nn/Network.h"

#include "core/Error.h"
#include "nn/OnednnUNet.h"

namespace ctd::nn {

std::unique_ptr<Network> buildNetwork(const NnunetPlans& plans, const CheckpointContents& checkpoint, int input_channels,
                                      int num_classes, const EngineOptions& options) {
  try {
    return std::make_unique<OnednnUNet>(UNetSpec(plans.architecture, input_channels, num_classes), checkpoint, options);
  } catch (const dnnl::error& e) {
    throw Error(std::string("oneDNN cannot build the network: ") + e.what());
  }
}

}  // namespace ctd::nn
