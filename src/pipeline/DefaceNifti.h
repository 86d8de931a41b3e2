#pragma once
// `ctdeface deface-nifti`: the original CTA-DEFACE run_CTA-DEFACE.py job on NIfTI
// files: for each input image, the defaced image and its face mask.
#include <filesystem>
#include <vector>

#include "pipeline/DefaceJob.h"

namespace ctd {

struct NiftiDefaceResult {
  std::filesystem::path input, image_out, mask_out;
  std::size_t voxels_removed = 0;
  bool face_in_view = true;
  std::string error;  // empty on success
};

// `input` is a .nii/.nii.gz file or a folder of them (any names); outputs go to
// `out_dir` as <name>.nii.gz and <name>_mask.nii.gz.
std::vector<NiftiDefaceResult> defaceNifti(const std::filesystem::path& input, const std::filesystem::path& out_dir,
                                          const DefaceOptions& opt);

}  // namespace ctd
