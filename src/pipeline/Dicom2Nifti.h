#pragma once
// `dicom2nifti`: every CT stack of a case folder as one NIfTI file, written the
// way NiftiIO writes it (regular stacks as they are, tilted / unevenly spaced
// stacks on their regular grid; see docs/nifti-geometry.md).
#include <filesystem>
#include <string>
#include <vector>

namespace ctd {

struct NiftiConversion {
  std::filesystem::path file;
  std::string series;  // SeriesStack::name
  bool resampled = false;
};

// One `<stack.name><extension>` per CT stack (extension ".nii.gz" or ".nii").
// When `case_dir` holds several cases, each case's files go to out_dir/<case name>/.
// Throws ctd::Error naming the file or folder that could not be read or written.
std::vector<NiftiConversion> convertCaseToNifti(const std::filesystem::path& case_dir,
                                                const std::filesystem::path& out_dir,
                                                const std::string& extension = ".nii.gz");

}  // namespace ctd
