#pragma once
// The face mask is found on a coarse grid (2 mm). Pulled back to the native
// voxels nearest-neighbour, its boundary inside the tissue — the cut surface a
// recipient's 3D render shows — is a staircase of 2 mm blocks: regular ridges
// and steps that read as relief (and, to a face detector, as features) on a
// surface that should be plain. Here the coarse mask is softened by a small
// binomial blur and sampled trilinearly at every native voxel; the native mask
// is where that field is >= 1/2. On a flat boundary the half level lies where
// the nearest-neighbour boundary does, so the cut keeps its place and loses
// only its steps. A part of the coarse mask one voxel thin (2 mm) falls below
// the half level and is lost: the segmenter's mask has none on the face (it
// grows two voxels into the air around it), and the landmark, nose and globe
// tests hold on the native mask.
#include <cstdint>
#include <vector>

#include "segment/CoarseMorphology.h"
#include "volume/Volume.h"

namespace ctd {

// `coarse_mask` (0/1) lives on grid `g` whose voxel (0,0,0) is at `origin`
// (axis-aligned LPS, isotropic spacing). Returns the mask on `native`'s voxels.
VoxelMask smoothMaskToNative(const coarse::Bits& coarse_mask, const coarse::Grid& g, const Vec3& origin,
                             const Volume& native);

// The softened field: [1 2 1]/4 along each axis, held only over the box where
// it is not 0 (the ones' box grown by a voxel): voxel (i, j, k) of `grid` is
// voxel (i, j, k) + offset of the mask's grid. Empty grid for an empty mask.
struct SoftMask {
  coarse::Grid grid{0, 0, 0, 1};
  std::size_t offset[3] = {0, 0, 0};
  std::vector<float> values;
};
SoftMask softenMask(const coarse::Bits& m, const coarse::Grid& g);

}  // namespace ctd
