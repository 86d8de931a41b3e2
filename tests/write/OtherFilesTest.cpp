// --copy-other copies localizers, screenshots and non-image objects, but never a
// CT image that is not part of a written series (it would still hold the face).
#include "write/OtherFiles.h"

#include <gtest/gtest.h>

#include <fstream>

namespace fs = std::filesystem;

namespace ctd {
namespace {

TEST(OtherFiles, CtImagesOutsideWrittenSeriesAreListedButNeverCopied) {
  const fs::path root = fs::path(CTD_BINARY_DIR) / "test-scratch" / "other-files" / "in";
  const fs::path out = root.parent_path() / "out";
  fs::remove_all(root.parent_path());
  fs::create_directories(root / "sub");
  CaseInventory inv;
  inv.root = root;
  const auto add = [&](const std::string& rel, InstanceKind kind, const std::string& reason) {
    std::ofstream(root / rel) << rel;
    DicomInstance inst;
    inst.path = root / rel;
    inst.kind = kind;
    inv.instances.push_back(inst);
    inv.set_aside.push_back({root / rel, reason});
  };
  add("scout.dcm", InstanceKind::Localizer, "localizer");
  add("sub/dup.dcm", InstanceKind::CtImage, "repeated positions with different pixels");
  add("dose.dcm", InstanceKind::SecondaryCapture, "secondary capture");

  const auto others = otherFilesOf(inv);
  ASSERT_EQ(others.size(), 3u);
  for (const auto& o : others) EXPECT_EQ(o.copyable, o.relative != fs::path("sub/dup.dcm")) << o.relative;
  copyOtherFiles(others, out);
  EXPECT_TRUE(fs::exists(out / "scout.dcm"));
  EXPECT_TRUE(fs::exists(out / "dose.dcm"));
  EXPECT_FALSE(fs::exists(out / "sub" / "dup.dcm"));
}

}  // namespace
}  // namespace ctd
