#pragma once
// Test-side PNG views of a volume and a mask, to check segmentations by eye
// (written only when CTD_RENDER_DIR is set in the environment).
#include <filesystem>
#include <string>

#include "volume/Volume.h"

namespace ctd::testing {

// Axial slice k, window [lo, hi] HU, masked voxels tinted red.
void writeAxialPng(const Volume& v, const VoxelMask* mask, std::size_t k, const std::filesystem::path& file,
                   double lo = -300, double hi = 400);

// Reformat on the LPS plane x = const (sagittal) through the volume, 1 mm pixels.
void writeSagittalPng(const Volume& v, const VoxelMask* mask, double x_lps, const std::filesystem::path& file,
                      double lo = -300, double hi = 400);

// Directory from CTD_RENDER_DIR, or empty when rendering is off.
std::filesystem::path renderDir();

}  // namespace ctd::testing
