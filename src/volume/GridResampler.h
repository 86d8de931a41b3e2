#pragma once
// Regular-grid views of a (possibly tilted / unevenly spaced) Volume and the
// exact way back. A "grid" is a Volume whose slices are evenly spaced along an
// orthonormal frame (slice_pos[k] = slice_pos[0] + k * spacing * normal).
#include "volume/Volume.h"

namespace ctd {

// Orthogonal grid in the stack's own frame (row_dir, col_dir, normal) covering
// every voxel of `v`, slice spacing = `slice_spacing` (<= 0: the smallest gap).
Volume regularGridFor(const Volume& v, double slice_spacing = 0);

// Axis-aligned LPS grid with isotropic `spacing` covering `v` (for the segmenters).
Volume lpsGridFor(const Volume& v, double spacing);

// Samples `src` (trilinear in its native slices, linear between slices) at
// every voxel of `grid` (whose hu is resized and filled); outside -> `outside`.
void resampleInto(const Volume& src, Volume& grid, float outside = -1024.0f);

// Nearest-neighbour pull of a mask defined on `grid` back onto `native`'s voxels.
VoxelMask maskToNative(const VoxelMask& grid_mask, const Volume& grid, const Volume& native);

}  // namespace ctd
