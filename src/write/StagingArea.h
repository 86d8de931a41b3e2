#pragma once
// Fail-closed, atomic output of a group of files (one series, or the "other"
// files of a case): everything is written into a hidden staging folder inside
// the output root, fsync'ed, and renamed into place only when all of it
// succeeded. If anything fails, nothing of the group is left under the root.
#include <filesystem>
#include <utility>
#include <vector>

namespace ctd {

class StagingArea {
 public:
  explicit StagingArea(const std::filesystem::path& out_root);
  ~StagingArea();  // removes the staging folder: all of it on failure, its empty folders after commit
  StagingArea(const StagingArea&) = delete;
  StagingArea& operator=(const StagingArea&) = delete;

  // Where to write the file that will end up at out_root / relative (parents created).
  // Throws ctd::Error if that destination is `source` itself (never overwrite an input).
  std::filesystem::path stage(const std::filesystem::path& relative, const std::filesystem::path& source);

  const std::filesystem::path& folder() const { return folder_; }

  // fsync every staged file, then rename each into place. On failure the files
  // already moved are removed again and ctd::Error is thrown.
  void commit();

 private:
  std::filesystem::path root_, folder_;
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> staged_;  // staged, final
};

}  // namespace ctd
