#pragma once
// Regular-grid views of a (possibly tilted / unevenly spaced) Volume and the
// exact way back. A "grid" is a Volume whose slices are evenly spaced along an
// orthonormal frame (slice_pos[k] = slice_pos[0] + k * spacing * normal).
#include "volume/Volume.h"

namespace ctd {

// Grids are returned as geometry only (hu empty): fill them with resampleInto.

// Orthogonal grid in the stack's own frame (row_dir, col_dir, normal) covering
// every voxel of `v`, same in-plane spacing, slice spacing = `slice_spacing`
// (<= 0: the mean gap when the gaps are uniform within 1 %, which makes the grid
// of a regular stack the stack itself; otherwise the smallest gap).
Volume regularGridFor(const Volume& v, double slice_spacing = 0);

// Axis-aligned LPS grid (row_dir +x, col_dir +y, normal +z) with isotropic
// `spacing`, origin at the low corner of the bounding box of `v`'s voxel centres.
Volume lpsGridFor(const Volume& v, double spacing);

// Samples `src` (bilinear in its native slices, linear between slices along the
// normal) at every voxel of `grid` (whose hu is resized and filled); points
// outside the source's voxel centres -> `outside`. Any grid geometry works.
void resampleInto(const Volume& src, Volume& grid, float outside = -1024.0f);

// Nearest-neighbour pull of a mask defined on `grid` back onto `native`'s voxels
// (native voxels farther than half a grid voxel outside the grid get 0). Works
// between any two geometries (grid may be sheared or unevenly spaced too): the
// nearest slice along grid.normal, then the nearest voxel in that slice.
VoxelMask maskToNative(const VoxelMask& grid_mask, const Volume& grid, const Volume& native);

}  // namespace ctd
