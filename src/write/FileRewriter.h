#pragma once
// Writes one rewritten DICOM file (all its frames at once) following the
// transfer-syntax policy in TransferSyntaxPolicy.h, then reads it back to check
// that it decodes to exactly the intended stored values.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "dicom/DicomInstance.h"
#include "write/SeriesRewriter.h"

namespace ctd {

struct FileEdit {
  std::vector<std::int32_t> before;  // the file's decoded stored values (decodePixels)
  std::vector<std::int32_t> after;   // the values to write
  std::size_t changed = 0;           // samples where after != before
  std::string new_sop_uid;           // empty: keep
  std::string new_series_uid;        // empty: keep
  bool mark_defaced = false;
  std::string derivation_description;
  bool staged_holds_source = false;  // the staged file is already a byte copy of the source (StagedCopies)
};

// Writes `inst` with `edit` applied to `staged`. Fills everything of the outcome
// but `output`. Throws ctd::Error naming the source file.
FileOutcome writeRewrittenFile(const DicomInstance& inst, const FileEdit& edit, const std::filesystem::path& staged);

}  // namespace ctd
