#include "segment/nnunet/NonzeroCrop.h"

#include <algorithm>

namespace ctd::nnunet {

std::vector<std::uint8_t> filledNonzeroMask(const ImageGrid& image) {
  const std::size_t n = image.voxels();
  std::vector<std::uint8_t> mask(n, 0);
  for (int c = 0; c < image.channels; ++c) {
    const float* p = image.channel(c);
    for (std::size_t i = 0; i < n; ++i) mask[i] |= p[i] != 0.0f;
  }
  // Fill holes: background not 6-connected to the array border becomes foreground.
  const auto [D, H, W] = image.shape;
  std::vector<std::uint8_t> outside(n, 0);
  std::vector<std::size_t> stack;
  auto seed = [&](std::int64_t z, std::int64_t y, std::int64_t x) {
    const std::size_t i = static_cast<std::size_t>((z * H + y) * W + x);
    if (!mask[i] && !outside[i]) {
      outside[i] = 1;
      stack.push_back(i);
    }
  };
  for (std::int64_t z = 0; z < D; ++z)
    for (std::int64_t y = 0; y < H; ++y)
      for (std::int64_t x = 0; x < W; ++x)
        if (z == 0 || z == D - 1 || y == 0 || y == H - 1 || x == 0 || x == W - 1) seed(z, y, x);
  while (!stack.empty()) {
    const std::size_t i = stack.back();
    stack.pop_back();
    const std::int64_t x = static_cast<std::int64_t>(i) % W, y = (static_cast<std::int64_t>(i) / W) % H,
                       z = static_cast<std::int64_t>(i) / (W * H);
    if (x > 0) seed(z, y, x - 1);
    if (x + 1 < W) seed(z, y, x + 1);
    if (y > 0) seed(z, y - 1, x);
    if (y + 1 < H) seed(z, y + 1, x);
    if (z > 0) seed(z - 1, y, x);
    if (z + 1 < D) seed(z + 1, y, x);
  }
  for (std::size_t i = 0; i < n; ++i) mask[i] = !outside[i];
  return mask;
}

NonzeroCrop cropToNonzero(const ImageGrid& image) {
  const std::vector<std::uint8_t> full = filledNonzeroMask(image);
  const auto [D, H, W] = image.shape;
  Box3 box{{D, H, W}, {0, 0, 0}};
  for (std::int64_t z = 0; z < D; ++z)
    for (std::int64_t y = 0; y < H; ++y)
      for (std::int64_t x = 0; x < W; ++x)
        if (full[static_cast<std::size_t>((z * H + y) * W + x)]) {
          const std::int64_t p[3] = {z, y, x};
          for (int a = 0; a < 3; ++a) {
            box.begin[a] = std::min(box.begin[a], p[a]);
            box.end[a] = std::max(box.end[a], p[a] + 1);
          }
        }
  if (box.end[0] == 0) box = Box3{{0, 0, 0}, {D, H, W}};
  NonzeroCrop out;
  out.bbox = box;
  const Shape3 s = box.size();
  out.cropped = ImageGrid(image.channels, s);
  out.mask.assign(ImageGrid::voxels(s), 0);
  for (int c = 0; c < image.channels; ++c) {
    const float* src = image.channel(c);
    float* dst = out.cropped.channel(c);
    std::size_t o = 0;
    for (std::int64_t z = box.begin[0]; z < box.end[0]; ++z)
      for (std::int64_t y = box.begin[1]; y < box.end[1]; ++y) {
        const std::size_t row = static_cast<std::size_t>((z * H + y) * W + box.begin[2]);
        for (std::int64_t x = 0; x < s[2]; ++x, ++o) {
          dst[o] = src[row + static_cast<std::size_t>(x)];
          if (c == 0) out.mask[o] = full[row + static_cast<std::size_t>(x)];
        }
      }
  }
  return out;
}

}  // namespace ctd::nnunet
