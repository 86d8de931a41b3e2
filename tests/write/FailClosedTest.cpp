// Fail closed and atomic: a series that cannot be written leaves nothing under
// the output root, the error names the file, and inputs are never touched.
#include <gtest/gtest.h>

#include <fstream>

#include "WriteTestSupport.h"
#include "core/Error.h"
#include "synth/SyntheticSeries.h"
#include "write/OtherFiles.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

fs::path syntheticSeries(const std::string& name) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(24, 20, 6);
  const fs::path dir = freshDir(name) / "in";
  synth::writeSeries(spec, dir);
  return dir;
}

TEST(FailClosed, CorruptFileMidSeriesLeavesNothingAndNamesTheFile) {
  const fs::path in = syntheticSeries("fail-corrupt");
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  // Truncate the PixelData of the 4th slice's file after the series was read.
  const fs::path broken = inv.instances.at(stack.slices[3].instance).path;
  fs::resize_file(broken, fs::file_size(broken) - 300);
  const auto hashes = hashTree(in);
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  fs::create_directories(opt.out_root);
  { std::ofstream(opt.out_root / "unrelated.txt") << "kept"; }
  try {
    rewriteSeries(inv, stack, boxMask(inv, stack, {0, 0, 0}, {1, 1, 1}), opt);
    FAIL() << "expected ctd::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(broken.filename().string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(filesBelow(opt.out_root), std::vector<fs::path>{"unrelated.txt"});
  EXPECT_EQ(std::distance(fs::directory_iterator(opt.out_root), fs::directory_iterator()), 1);
  EXPECT_EQ(hashTree(in), hashes);
}

TEST(FailClosed, RefusesToWriteOverItsInput) {
  const fs::path in = syntheticSeries("fail-in-place");
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  RewriteOptions opt;
  opt.out_root = in;
  EXPECT_THROW(rewriteSeries(inv, stack, boxMask(inv, stack, {0, 0, 0}, {1, 1, 1}), opt), Error);
  EXPECT_EQ(hashTree(in), hashes);
  EXPECT_EQ(filesBelow(in).size(), stack.slices.size());  // no staging folder left behind
}

TEST(FailClosed, MaskOfTheWrongSizeIsAnError) {
  const fs::path in = syntheticSeries("fail-mask-size");
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  EXPECT_THROW(rewriteSeries(inv, stack, VoxelMask(24, 20, 5), opt), Error);
  EXPECT_THROW(rewriteSeries(inv, stack, VoxelMask(20, 24, 6), opt), Error);
  EXPECT_TRUE(filesBelow(opt.out_root).empty());
}

// The Philips study: everything that is not the CT stack is listed with a
// reason, not written by default, and copied byte for byte on request.
TEST(OtherFiles, PhilipsStudyListsAndCopiesEverythingButTheCtStack) {
  const fs::path in = fs::path(CTD_SHARED_DATA) / "ct-phantom-philips-multiseries";
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const std::vector<OtherFile> others = otherFilesOf(inv);
  std::set<fs::path> listed;
  for (const auto& o : others) {
    EXPECT_FALSE(o.reason.empty()) << o.path;
    EXPECT_EQ(o.path, in / o.relative);
    listed.insert(o.relative);
  }
  std::size_t in_stacks = 0;
  for (const auto& s : inv.stacks) in_stacks += s.slices.size();
  // Every file of the study is either a stack slice or listed, never both.
  EXPECT_EQ(listed.size() + in_stacks, filesBelow(in).size());
  for (const auto& s : inv.stacks)
    for (const auto& slice : s.slices) EXPECT_FALSE(listed.count(inv.instances[slice.instance].relative));
  for (const char* expected : {"DICOMDIR", "S21570/S1000/I10", "S21570/S4010/I60", "S21570/S2010/DIRFILE"})
    EXPECT_TRUE(listed.count(expected)) << expected;
  EXPECT_FALSE(listed.count("S21570/S2010/I10"));

  const fs::path out = freshDir("other-files");
  copyOtherFiles(others, out);
  EXPECT_EQ(filesBelow(out), std::vector<fs::path>(listed.begin(), listed.end()));
  for (const auto& rel : listed) EXPECT_TRUE(sameBytes(in / rel, out / rel)) << rel;
  EXPECT_EQ(hashTree(in), hashes);
}

}  // namespace
}  // namespace ctd::test
