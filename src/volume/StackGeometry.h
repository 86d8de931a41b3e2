#pragma once
// Facts about how a Volume's slices are laid out: spacing along the normal,
// shear (gantry tilt), gaps. Computed from the exact slice positions.
#include <array>
#include <vector>

#include "volume/Volume.h"

namespace ctd {

struct StackGeometry {
  std::vector<double> offsets;  // slice_pos[k] . normal, ascending
  std::vector<double> gaps;     // offsets[k+1] - offsets[k]
  double min_gap = 0, max_gap = 0, median_gap = 0;
  bool uniform = true;      // all gaps equal within tolerance
  double tilt_deg = 0;      // angle between the slice-to-slice step and the normal
  bool sheared = false;     // tilt above tolerance
  bool regular() const { return uniform && !sheared; }
};

StackGeometry analyzeStack(const Volume& v, double rel_tol = 0.01);

// 4x4 voxel->LPS affine (row-major), exact when the stack is uniform (sheared or not):
// column 3 of the upper 3x3 is the mean slice step, not the normal.
std::array<double, 16> voxelToLpsAffine(const Volume& v);

}  // namespace ctd
