#pragma once
// A case's folder under the work root (-w; default OUT/.ctdeface-work):
//   WORK/<case>/case.json   the case in progress: inputs (stamped), host, pid, start time
//   WORK/<case>/case.log    every log line of the case, at verbose detail
//   WORK/<case>/<series>_mask.nii.gz   each series' face mask (only with --keep-work)
// A leftover folder of an interrupted run is replaced when the case starts again.
// finish() removes it when the case succeeded, unless --keep-work; a failed case
// keeps it, so its log can be read.
#include <filesystem>
#include <string>

namespace ctd::batch {

class CaseWork {
 public:
  CaseWork(const std::filesystem::path& work_root, const std::string& case_name);
  const std::filesystem::path& dir() const { return dir_; }
  void finish(bool succeeded, bool keep);

  // Removes a case's folder (a leftover when the case is skipped).
  static void discard(const std::filesystem::path& work_root, const std::string& case_name);
  // Removes the work root itself when nothing is left in it.
  static void removeIfEmpty(const std::filesystem::path& work_root);

 private:
  std::filesystem::path dir_;
};

}  // namespace ctd::batch
