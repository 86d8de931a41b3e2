#pragma once
// NIfTI-1 (.nii / .nii.gz) through ITK. World coordinates are RAS in the file,
// LPS in memory. Tilted or unevenly spaced stacks are resampled onto their
// regular grid (see README "Tilted and unevenly spaced stacks in NIfTI" and
// docs/nifti-geometry.md): regularGridFor(v), trilinear, -1024 HU outside.
#include <filesystem>

#include "volume/Volume.h"

namespace ctd {

enum class NiftiPixel { Int16, Float32, UInt8 };

// Writes `v` (HU). Int16 rounds and clamps. Returns true when resampling was needed.
bool writeNifti(const Volume& v, const std::filesystem::path& file, NiftiPixel pixel = NiftiPixel::Int16);

// Writes a mask on `geometry`'s grid (uint8, 0/1), resampled the same way as writeNifti would.
void writeNiftiMask(const VoxelMask& mask, const Volume& geometry, const std::filesystem::path& file);

// Reads any scalar NIfTI into a Volume (values as float, scl_slope/inter applied).
// Geometry from ITK (origin/spacing/direction); a slice axis running against
// row x col is reversed so that slices ascend along the normal.
Volume readNifti(const std::filesystem::path& file);

}  // namespace ctd
