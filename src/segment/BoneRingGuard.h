#pragma once
#include <cstddef>
#include <functional>

#include "volume/Volume.h"

namespace ctd {

// Clears masked voxels of native slice k that lie inside a closed ring of
// bone (4-connected non-bone pixels, `hu <= bone_hu`, that the slice border
// cannot reach) in the largest such region, whatever their HU (noise would let
// single brain voxels through). Returns how many were cleared.
// Away from the caps (`all_brain_like` false) only the largest region counts:
// there a globe framed by an orbit's rim in the slice is brain-like too.
// At the caps (`all_brain_like` true) also every other enclosed region of
// brain-like mean HU (-10..80) over at least 1 cm^2.
// `near_brain(q)` (q = j * nx + i, must have no side effects): pixel q lies
// within the margin of the detected cavity; away from the caps the largest
// ring counts only when one of its pixels does (in a tilted slice through the
// face the largest ring can be the teeth's around the tongue). It is asked
// only when the largest region holds a masked pixel, in raster order over that
// region until one pixel is near.
// HU must not be NaN (decoded pixels never are): NaN counts as bone here.
std::size_t clearInsideBoneRing(const Volume& v, std::size_t k, double bone_hu, VoxelMask& mask, bool all_brain_like,
                                const std::function<bool(std::size_t)>& near_brain);

}  // namespace ctd
