#pragma once
// A multi-channel image as nnU-Net's inference code sees it: channels first, then the spatial
// axes in array order ([c][z][y][x] for 3D), row-major. Shapes are kept as 3 spatial sizes; a
// 2D configuration still works on 3D arrays slice by slice, exactly as nnU-Net does.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctd::nnunet {

using Shape3 = std::array<std::int64_t, 3>;
using Spacing3 = std::array<double, 3>;

struct ImageGrid {
  int channels = 0;
  Shape3 shape{0, 0, 0};
  std::vector<float> data;  // index ((c * shape[0] + z) * shape[1] + y) * shape[2] + x

  ImageGrid() = default;
  ImageGrid(int c, Shape3 s) : channels(c), shape(s), data(static_cast<std::size_t>(c) * voxels(s), 0.0f) {}

  static std::size_t voxels(const Shape3& s) { return static_cast<std::size_t>(s[0] * s[1] * s[2]); }
  std::size_t voxels() const { return voxels(shape); }
  float* channel(int c) { return data.data() + static_cast<std::size_t>(c) * voxels(); }
  const float* channel(int c) const { return data.data() + static_cast<std::size_t>(c) * voxels(); }
};

// Half-open box [begin, end) per spatial axis: nnU-Net's bbox_used_for_cropping.
struct Box3 {
  Shape3 begin{0, 0, 0};
  Shape3 end{0, 0, 0};
  Shape3 size() const { return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]}; }
};

// out[axis i] = in[axis perm[i]] (numpy's transpose of the spatial axes).
ImageGrid transposeSpatial(const ImageGrid& in, const std::array<int, 3>& perm);

}  // namespace ctd::nnunet
