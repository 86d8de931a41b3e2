#pragma once
// Reads every file's header of a case (GDCM), classifies it and assembles the CT
// image stacks: grouped by SeriesInstanceUID, split by orientation / matrix /
// spacing / acquisition, sorted by the projection of IPP on the slice normal.
#include <filesystem>

#include "dicom/CaseDiscovery.h"
#include "dicom/CaseInventory.h"

namespace ctd {

// Reads one file's header (no pixel data). Throws ctd::Error naming the file
// when it is not DICOM or cannot be parsed.
DicomInstance readInstanceHeader(const std::filesystem::path& file, const std::filesystem::path& case_root);

CaseInventory assembleCase(const CaseInput& input);

}  // namespace ctd
