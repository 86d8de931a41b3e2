#pragma once
// `ctdeface convert nifti2dicom`: writes a NIfTI's HU back into the DICOM
// series it was made from. Every native DICOM voxel is mapped through both
// geometries (its world position -> the NIfTI's nearest voxel), never by index
// or slice count, so cropped, resampled or reoriented NIfTIs map correctly.
#include <filesystem>

#include "dicom/CaseInventory.h"
#include "volume/Volume.h"
#include "write/SeriesRewriter.h"

namespace ctd {

struct NiftiToDicomOptions {
  std::filesystem::path nifti;    // .nii / .nii.gz
  std::filesystem::path ref;      // a case folder holding one CT stack, or a series folder
  std::filesystem::path out_dir;  // output file = out_dir / instance.relative
  bool strict = false;            // error (nothing written) if a slice is not covered
  bool new_uids = false;
  bool mark_defaced = false;
};

// Voxels whose NIfTI HU maps to their current stored value are left untouched;
// slices the NIfTI does not reach keep their values and are listed in
// RewriteResult::not_covered. Throws ctd::Error.
RewriteResult niftiToDicom(const NiftiToDicomOptions& opt);

// The same on an already assembled stack and a NIfTI already read (LPS Volume).
// `opt.fill_hu` is unused.
RewriteResult volumeToDicom(const CaseInventory& inv, const SeriesStack& stack, const Volume& values,
                            const RewriteOptions& opt, bool strict, const std::filesystem::path& values_file);

}  // namespace ctd
