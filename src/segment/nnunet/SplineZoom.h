#pragma once
// skimage.transform.resize(image, shape, order, mode='edge', anti_aliasing=False) as nnU-Net calls
// it: scipy.ndimage.zoom with grid_mode=True, mode 'nearest' (the input padded by 12 edge values
// before the spline prefilter, as scipy does), B-spline order 0, 1 or 3, computed in double, then
// clipped to the input's value range. Works on 1-, 2- or 3-axis arrays (sizes of 1 allowed).
#include <cstdint>
#include <vector>

#include "segment/nnunet/ImageGrid.h"

namespace ctd::nnunet {

// in: values of shape `in_shape` (row-major); returns values of shape `out_shape`.
std::vector<double> splineResize(const std::vector<double>& in, const Shape3& in_shape, const Shape3& out_shape,
                                 int order);

// scipy.ndimage.map_coordinates(order=0, mode='nearest') along one axis with skimage's
// align_corners=False mapping: out index o reads in index round((o + 0.5) * n_in / n_out - 0.5).
std::vector<double> nearestAlongAxis(const std::vector<double>& in, const Shape3& in_shape, int axis,
                                     std::int64_t out_size);

}  // namespace ctd::nnunet
