#include "batch/CaseWork.h"

#include "batch/CaseState.h"
#include "core/Error.h"

namespace fs = std::filesystem;

namespace ctd::batch {

CaseWork::CaseWork(const fs::path& work_root, const std::string& case_name)
    : dir_(work_root / encodeCaseName(case_name)) {
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) throw Error(dir_, "cannot create the case's work folder: " + ec.message());
}

void CaseWork::finish(bool succeeded, bool keep) {
  if (!succeeded || keep) return;
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void CaseWork::discard(const fs::path& work_root, const std::string& case_name) {
  std::error_code ec;
  fs::remove_all(work_root / encodeCaseName(case_name), ec);
}

void CaseWork::removeIfEmpty(const fs::path& work_root) {
  std::error_code ec;
  if (fs::is_directory(work_root, ec) && fs::is_empty(work_root, ec)) fs::remove(work_root, ec);
}

}  // namespace ctd::batch
