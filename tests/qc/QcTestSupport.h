#pragma once
// Shared set-up of the qc tests: phantom poses with the face in view, kept at a
// size that CI (and its ASan pass) can afford.
#include "phantom/PhantomGenerator.h"

namespace ctd::qctest {

// PhantomSpec::random(seed) with the whole head in view. The pose (yaw, pitch,
// roll, shift, prone, tilt, mouth, child, noise, metal) is kept; pixels are at
// least 1 mm and slices at least 1.25 mm apart, which keeps each volume under
// ~15 M voxels. The renders work on a 1.5 mm grid, so this changes nothing
// they can show.
inline phantom::PhantomSpec faceInViewPose(unsigned seed) {
  phantom::PhantomSpec s = phantom::PhantomSpec::random(seed);
  s.fov = phantom::PhantomFov::FullHead;
  if (s.pixel_spacing_mm < 1.0) {
    s.pixel_spacing_mm = 1.0;
    s.matrix = s.scale < 1 ? 200 : 250;
  }
  if (s.slice_step_mm < 1.25) s.slice_step_mm = 1.25;
  return s;
}

}  // namespace ctd::qctest
