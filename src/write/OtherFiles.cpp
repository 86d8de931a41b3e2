#include "write/OtherFiles.h"

#include <fstream>
#include <sstream>

#include "core/AtomicFile.h"
#include "core/Error.h"

namespace ctd {

std::vector<OtherFile> otherFilesOf(const CaseInventory& inv) {
  std::vector<OtherFile> out;
  for (const auto& s : inv.set_aside) out.push_back({s.path, s.path.lexically_relative(inv.root), s.reason});
  return out;
}

void copyOtherFiles(const std::vector<OtherFile>& files, const std::filesystem::path& out_root) {
  for (const auto& f : files) {
    std::ifstream in(f.path, std::ios::binary);
    if (!in) throw Error(f.path, "cannot read");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    writeFileAtomically(out_root / f.relative, bytes.str());
  }
}

}  // namespace ctd
