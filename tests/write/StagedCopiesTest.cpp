// StagedCopies: the output copies made while a series is segmented must give
// exactly the files a plain rewrite gives, stay hidden until the commit, and
// leave nothing behind when the series is dropped.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "WriteTestSupport.h"
#include "core/Error.h"
#include "synth/SyntheticSeries.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

fs::path syntheticSeries(const std::string& name, std::size_t slices) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(24, 20, slices);
  const fs::path dir = freshDir(name) / "in";
  synth::writeSeries(spec, dir);
  return dir;
}

std::string bytesOf(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(StagedCopies, GiveTheSameFilesAsAPlainRewrite) {
  const fs::path in = syntheticSeries("staged-same", 8);
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  // Face voxels in slices 2-4 only: the other files stay byte copies.
  const VoxelMask mask = boxMask(inv, stack, {0.2, 0.1, 0.25}, {0.7, 0.6, 0.6});
  RewriteOptions plain, staged;
  plain.out_root = in.parent_path() / "plain";
  staged.out_root = in.parent_path() / "staged";
  const RewriteResult a = rewriteSeries(inv, stack, mask, plain);
  RewriteResult b;
  {
    StagedCopies copies(inv, stack, staged);
    b = rewriteSeries(inv, stack, mask, staged, &copies);
  }
  EXPECT_GT(a.changed_voxels, 0u);
  EXPECT_EQ(a.changed_voxels, b.changed_voxels);
  ASSERT_EQ(filesBelow(plain.out_root), filesBelow(staged.out_root));
  std::size_t untouched = 0;
  for (const auto& rel : filesBelow(plain.out_root)) {
    EXPECT_EQ(bytesOf(plain.out_root / rel), bytesOf(staged.out_root / rel)) << rel;
    untouched += bytesOf(staged.out_root / rel) == bytesOf(in / rel);
  }
  EXPECT_GE(untouched, 4u);  // files outside the mask: the source, byte for byte
  EXPECT_LT(untouched, stack.slices.size());
  // Only the files: no staging folder left beside them.
  EXPECT_EQ(std::distance(fs::directory_iterator(staged.out_root), fs::directory_iterator()),
            static_cast<long>(stack.slices.size()));
  EXPECT_EQ(hashTree(in), hashes);
}

TEST(StagedCopies, UnusedCopiesLeaveNothing) {
  const fs::path in = syntheticSeries("staged-dropped", 6);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out" / "case";
  {
    StagedCopies copies(inv, stack, opt);  // the series fails before its rewrite
    EXPECT_TRUE(fs::exists(opt.out_root));
  }
  EXPECT_FALSE(fs::exists(opt.out_root));  // not even an empty case folder
  // With header edits nothing is copied ahead: GDCM writes every file.
  opt.new_uids = true;
  StagedCopies none(inv, stack, opt);
  EXPECT_FALSE(fs::exists(opt.out_root));
  const RewriteResult r = rewriteSeries(inv, stack, boxMask(inv, stack, {0, 0, 0}, {1, 1, 0.5}), opt, &none);
  EXPECT_EQ(r.files.size(), stack.slices.size());
}

TEST(StagedCopies, RefusesToCopyOverItsInput) {
  const fs::path in = syntheticSeries("staged-in-place", 4);
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  RewriteOptions opt;
  opt.out_root = in;
  EXPECT_THROW({ StagedCopies copies(inv, stack, opt); }, Error);
  EXPECT_EQ(hashTree(in), hashes);
  EXPECT_EQ(filesBelow(in).size(), stack.slices.size());  // no staging folder left behind
}

}  // namespace
}  // namespace ctd::test
