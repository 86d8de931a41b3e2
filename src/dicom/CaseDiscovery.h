#pragma once
// Finds the cases under an input folder. See README "How cases are found".
#include <filesystem>
#include <string>
#include <vector>

#include "dicom/CaseInventory.h"

namespace ctd {

struct CaseInput {
  std::filesystem::path root;   // the case folder
  std::string name;             // path relative to the input root ("" when the input is one case)
  std::vector<std::filesystem::path> files;  // every regular file below root, sorted
};

struct Discovery {
  bool single_case = true;
  std::vector<CaseInput> cases;
  std::vector<SetAside> skipped;  // unreadable entries met while walking (symlink loops, permissions)
};

Discovery discoverCases(const std::filesystem::path& input);

}  // namespace ctd
