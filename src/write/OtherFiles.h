#pragma once
// Files of a case that are not part of a CT volume (localizers, secondary
// captures, non-image objects, DICOMDIR). Not copied by default: a lateral
// localizer shows the face profile and screenshots can carry burned-in text.
// CT images that are not part of a written series (dropped duplicates, rejected
// stacks, series that failed) are never copied: they still hold the face.
#include <filesystem>
#include <string>
#include <vector>

#include "dicom/CaseInventory.h"

namespace ctd {

struct OtherFile {
  std::filesystem::path path;      // source
  std::filesystem::path relative;  // relative to the case root
  std::string reason;              // why it is not part of a defaced series
  bool copyable = true;            // false for CT images: copying them would leak a face
};

// The set-aside DICOM files of a case, in a stable order.
std::vector<OtherFile> otherFilesOf(const CaseInventory& inv);

// Copies each copyable file unchanged to out_root / relative, atomically (temp + rename).
void copyOtherFiles(const std::vector<OtherFile>& files, const std::filesystem::path& out_root);

}  // namespace ctd
