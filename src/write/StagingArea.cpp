#include "write/StagingArea.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <set>
#include <system_error>

#include "core/Error.h"
#include "core/TestKillPoint.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

std::string randomSuffix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

// Data must be on disk before the rename makes it visible, or a crash could
// leave a complete-looking but empty file.
void syncPath(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw Error(p, "cannot open for fsync");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0 && !directory) throw Error(p, "fsync failed");
}

bool samePath(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

}  // namespace

StagingArea::StagingArea(const fs::path& out_root) : root_(out_root) {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) throw Error(root_, "cannot create the output folder: " + ec.message());
  for (int attempt = 0; attempt < 8; ++attempt) {
    fs::path candidate = root_ / (".ctdeface-staging-" + randomSuffix());
    if (fs::create_directory(candidate, ec)) {
      folder_ = candidate;
      return;
    }
  }
  throw Error(root_, "cannot create a staging folder");
}

StagingArea::~StagingArea() {
  std::error_code ec;
  if (!folder_.empty()) fs::remove_all(folder_, ec);
}

fs::path StagingArea::stage(const fs::path& relative, const fs::path& source) {
  if (relative.empty() || relative.is_absolute())
    throw Error(source, "cannot place the output (no relative path)");
  for (const auto& part : relative)
    if (part == "..") throw Error(source, "relative path leaves the output folder");
  const fs::path final_path = root_ / relative;
  if (!source.empty() && samePath(final_path, source))
    throw Error(source, "output would overwrite the input file");
  const fs::path staged = folder_ / relative;
  std::error_code ec;
  fs::create_directories(staged.parent_path(), ec);
  if (ec) throw Error(staged.parent_path(), "cannot create folder: " + ec.message());
  staged_.emplace_back(staged, final_path);
  return staged;
}

namespace {
// One syncfs for the whole series instead of an fsync per file: the same
// guarantee (every staged byte on disk before any rename), far fewer flushes.
void syncFileSystemOf(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw Error(dir, "cannot open for sync");
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) throw Error(dir, "sync failed");
}
}  // namespace

void StagingArea::commit() {
  if (!staged_.empty()) syncFileSystemOf(folder_);
  testKillPoint("series-staged");
  std::vector<fs::path> moved;
  std::set<fs::path> parents;
  try {
    for (const auto& [staged, final_path] : staged_) {
      std::error_code ec;
      fs::create_directories(final_path.parent_path(), ec);
      if (ec) throw Error(final_path.parent_path(), "cannot create folder: " + ec.message());
      fs::rename(staged, final_path, ec);
      if (ec) throw Error(final_path, "cannot move the written file into place: " + ec.message());
      moved.push_back(final_path);
      parents.insert(final_path.parent_path());
      testKillPoint("series-commit");
    }
    for (const auto& p : parents) syncPath(p, true);
  } catch (...) {
    std::error_code ec;
    for (const auto& m : moved) fs::remove(m, ec);
    throw;
  }
}

}  // namespace ctd
