#pragma once
// The resumable state of one case, OUT/.ctdeface-state/<case>.json: what went in
// (every input file stamped: size, mtime, SHA-1), what came out (every file
// written at a final path, stamped), the options that shape the output, the tool
// version and the case's report rows. Written atomically after the case's outputs
// are in place, so a record on disk always describes finished outputs.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "batch/FileStamp.h"
#include "dicom/CaseDiscovery.h"
#include "pipeline/Report.h"

namespace ctd::batch {

struct OutputStamp {
  std::string root;  // "out" (the DICOM output root) or "nifti" (--nifti-root-out)
  FileStamp file;    // path relative to that root
};

struct CaseState {
  std::string case_name;
  std::string tool_version;
  std::string options;  // outputAffectingOptions()
  std::vector<FileStamp> inputs;  // relative to the case root
  std::vector<OutputStamp> outputs;
  CaseReport report;  // rows as they were written (its outputs are absolute paths)
};

class CaseStateStore {
 public:
  CaseStateStore(const std::filesystem::path& out_root, const std::filesystem::path& nifti_root);
  std::filesystem::path fileFor(const std::string& case_name) const;
  // nullopt when there is no record or it cannot be parsed (then the case is redone).
  std::optional<CaseState> load(const std::string& case_name) const;
  void save(const CaseState& s) const;  // atomic
  // Removes leftovers of an interrupted atomic write of this case's record.
  void removeTemporaries(const std::string& case_name) const;

  // The outputs of a report as stamps relative to their roots (hashes included).
  std::vector<OutputStamp> stampOutputs(const std::vector<std::filesystem::path>& outputs) const;
  std::filesystem::path absolute(const OutputStamp& o) const;

  // Empty when `old` still describes the case exactly: same options and version,
  // same input files with the same size and mtime (or, if the mtime moved, the
  // same SHA-1), every output still there with its size and mtime, and a result
  // that needs no retry (not failed or partial). Otherwise the reason to redo it.
  std::string whyRedo(const CaseState& old, const CaseInput& c, const std::string& options) const;

 private:
  std::filesystem::path out_root_, nifti_root_, dir_;
};

// Stamps every file of the case (relative to its root), hashed.
std::vector<FileStamp> stampInputs(const CaseInput& c);

// A file name for a case label: letters, digits, '.', '-', '_' kept, others %XX.
std::string encodeCaseName(const std::string& name);

}  // namespace ctd::batch
