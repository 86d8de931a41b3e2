#pragma once
// Where channel c of spatial position s lives in a batch-1 activation in oneDNN's nC(D)HW<B>c layout
// (B = 1 is plain NC(D)HW): channels are padded to a multiple of B and the padding holds zeros.
#include <cstdint>

namespace ctd::nn {

struct ChannelBlockedLayout {
  std::int64_t channels = 0;  // real channels
  std::int64_t spatial = 0;   // product of the spatial sizes
  int block = 1;

  std::int64_t paddedChannels() const { return (channels + block - 1) / block * block; }
  std::int64_t elements() const { return paddedChannels() * spatial; }
  std::int64_t offset(std::int64_t c, std::int64_t s) const { return ((c / block) * spatial + s) * block + c % block; }
};

}  // namespace ctd::nn
