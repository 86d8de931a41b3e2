// rewriteSeries on the shared real CT series (GE tilted head, Philips phantom).
#include <gtest/gtest.h>

#include "WriteTestSupport.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

struct RealSeries {
  const char* name;
  const char* folder;  // below CTD_SHARED_DATA
};

void PrintTo(const RealSeries& s, std::ostream* os) { *os << s.name; }

class RealSeriesRewrite : public ::testing::TestWithParam<RealSeries> {
 protected:
  fs::path input() const { return fs::path(CTD_SHARED_DATA) / GetParam().folder; }
};

TEST_P(RealSeriesRewrite, EmptyMaskReproducesTheSourceFiles) {
  const CaseInventory inv = inventoryOf(input());
  ASSERT_FALSE(inv.stacks.empty());
  const fs::path out = freshDir(std::string("real-empty-") + GetParam().name);
  std::size_t written = 0;
  for (const SeriesStack& stack : inv.stacks) {
    RewriteOptions opt;
    opt.out_root = out;
    const RewriteResult r = rewriteSeries(inv, stack, boxMask(inv, stack, {0, 0, 0}, {0, 0, 0}), opt);
    EXPECT_EQ(r.changed_voxels, 0u);
    written += r.files.size();
    for (const FileOutcome& f : r.files) {
      EXPECT_TRUE(sameBytes(f.source, f.output)) << f.source;
      EXPECT_EQ(f.transfer_syntax_in, f.transfer_syntax_out);
    }
  }
  EXPECT_EQ(filesBelow(out).size(), written);
}

TEST_P(RealSeriesRewrite, BoxMaskChangesOnlyMaskedVoxelsAndAddsNoValidatorErrors) {
  const auto hashes = hashTree(input());
  const CaseInventory inv = inventoryOf(input());
  ASSERT_FALSE(inv.stacks.empty());
  const fs::path out = freshDir(std::string("real-box-") + GetParam().name);
  for (const SeriesStack& stack : inv.stacks) {
    const VoxelMask mask = boxMask(inv, stack, {0.25, 0.05, 0.0}, {0.75, 0.4, 0.5});
    RewriteOptions opt;
    opt.out_root = out;
    opt.fill_hu = -1000;
    const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
    EXPECT_GT(r.changed_voxels, 1000u);
    EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, out), 0u);
    EXPECT_EQ(r.files.size(), stack.slices.size());
    for (const FileOutcome& f : r.files) {
      SCOPED_TRACE(f.source.string());
      EXPECT_EQ(f.transfer_syntax_out, f.transfer_syntax_in);
      EXPECT_EQ(changedElements(f.source, f.output), std::set<std::string>{});
      EXPECT_EQ(fs::file_size(f.source), fs::file_size(f.output));  // patched in place, nothing moved
      const std::set<std::string> before = dciodvfyErrors(f.source);
      for (const std::string& e : dciodvfyErrors(f.output)) EXPECT_TRUE(before.count(e)) << "new error: " << e;
    }
  }
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().rfind(".ctdeface-staging", 0), std::string::npos) << e.path();
  EXPECT_EQ(hashTree(input()), hashes);
}

const RealSeries kSeries[] = {
    {"ge_head_tilt", "ct-head-ge-tilt"},
    {"philips_s2010", "ct-phantom-philips-multiseries/S21570/S2010"},
};

INSTANTIATE_TEST_SUITE_P(Shared, RealSeriesRewrite, ::testing::ValuesIn(kSeries),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ctd::test
