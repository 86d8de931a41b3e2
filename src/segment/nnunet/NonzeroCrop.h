#pragma once
// nnU-Net's crop_to_nonzero: the mask of voxels non-zero in any channel, holes filled
// (scipy binary_fill_holes, face connectivity), and its bounding box. Only the box matters
// for inference, plus the mask for normalization schemes with use_mask_for_norm.
#include <cstdint>
#include <vector>

#include "segment/nnunet/ImageGrid.h"

namespace ctd::nnunet {

struct NonzeroCrop {
  Box3 bbox;                       // in the uncropped image
  ImageGrid cropped;               // the image inside bbox
  std::vector<std::uint8_t> mask;  // hole-filled non-zero mask inside bbox (1 = inside)
};

// An all-zero image keeps its full extent (nothing to crop to).
NonzeroCrop cropToNonzero(const ImageGrid& image);

// The hole-filled non-zero mask over the whole image.
std::vector<std::uint8_t> filledNonzeroMask(const ImageGrid& image);

}  // namespace ctd::nnunet
