#include "write/OtherFiles.h"

#include <algorithm>
#include <set>

#include "core/Error.h"
#include "write/FileCopy.h"
#include "write/StagingArea.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

fs::path relativeTo(const fs::path& file, const fs::path& root) {
  const fs::path rel = file.lexically_relative(root);
  return rel.empty() || *rel.begin() == ".." ? file.filename() : rel;
}

}  // namespace

std::vector<OtherFile> otherFilesOf(const CaseInventory& inv) {
  std::vector<OtherFile> out;
  std::set<fs::path> seen;
  std::set<fs::path> ct_images;
  for (const auto& inst : inv.instances)
    if (inst.kind == InstanceKind::CtImage) ct_images.insert(inst.path);
  const auto add = [&](const fs::path& path, const std::string& reason) {
    if (!seen.insert(path).second) return;
    const bool ct = ct_images.count(path) > 0;
    out.push_back({path, relativeTo(path, inv.root), ct ? reason + "; CT image outside a defaced series, never copied" : reason,
                   !ct});
  };
  for (const auto& s : inv.set_aside) add(s.path, s.reason);
  for (const auto& s : inv.skipped) add(s.path, s.reason);
  // DICOM files read but in no stack and not set aside (e.g. dropped duplicates):
  // they are not written as part of any series either.
  std::set<std::size_t> in_stack;
  for (const auto& stack : inv.stacks)
    for (const auto& slice : stack.slices) in_stack.insert(slice.instance);
  for (std::size_t n = 0; n < inv.instances.size(); ++n)
    if (!in_stack.count(n))
      add(inv.instances[n].path, inv.instances[n].kind_reason.empty() ? std::string("not part of a CT volume")
                                                                        : inv.instances[n].kind_reason);
  std::sort(out.begin(), out.end(), [](const OtherFile& a, const OtherFile& b) { return a.relative < b.relative; });
  return out;
}

void copyOtherFiles(const std::vector<OtherFile>& files, const fs::path& out_root) {
  if (files.empty()) return;
  StagingArea staging(out_root);
  for (const auto& f : files) {
    if (!f.copyable) continue;
    const fs::path staged = staging.stage(f.relative, f.path);
    copyFileBytes(f.path, staged);
  }
  staging.commit();
}

}  // namespace ctd
