#include "segment/nnunet/ImageGrid.h"

namespace ctd::nnunet {

ImageGrid transposeSpatial(const ImageGrid& in, const std::array<int, 3>& perm) {
  if (perm[0] == 0 && perm[1] == 1 && perm[2] == 2) return in;
  Shape3 os{in.shape[perm[0]], in.shape[perm[1]], in.shape[perm[2]]};
  ImageGrid out(in.channels, os);
  const Shape3 istride{in.shape[1] * in.shape[2], in.shape[2], 1};
  const Shape3 step{istride[perm[0]], istride[perm[1]], istride[perm[2]]};
  for (int c = 0; c < in.channels; ++c) {
    const float* src = in.channel(c);
    float* dst = out.channel(c);
    std::size_t o = 0;
    for (std::int64_t a = 0; a < os[0]; ++a)
      for (std::int64_t b = 0; b < os[1]; ++b) {
        const float* row = src + a * step[0] + b * step[1];
        for (std::int64_t d = 0; d < os[2]; ++d) dst[o++] = row[d * step[2]];
      }
  }
  return out;
}

}  // namespace ctd::nnunet
