#pragma once
// Files of a case that are not part of a CT volume (localizers, secondary
// captures, non-image objects, DICOMDIR). Not copied by default: a lateral
// localizer shows the face profile and screenshots can carry burned-in text.
// (Written by the lead for the pipeline; the write-side engineer may extend it.)
#include <filesystem>
#include <string>
#include <vector>

#include "dicom/CaseInventory.h"

namespace ctd {

struct OtherFile {
  std::filesystem::path path;      // source
  std::filesystem::path relative;  // relative to the case root
  std::string reason;              // why it is not part of a defaced series
};

// The set-aside DICOM files of a case, in a stable order.
std::vector<OtherFile> otherFilesOf(const CaseInventory& inv);

// Copies each file unchanged to out_root / relative, atomically (temp + rename).
void copyOtherFiles(const std::vector<OtherFile>& files, const std::filesystem::path& out_root);

}  // namespace ctd
