// rewriteSeries on synthetic series in every transfer syntax the policy
// distinguishes: empty masks reproduce the source, box masks change exactly the
// masked voxels to the fill value and nothing but PixelData.
#include <gtest/gtest.h>

#include "WriteTestSupport.h"
#include "core/Error.h"
#include "synth/SyntheticSeries.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

constexpr const char* kDeflated = "1.2.840.10008.1.2.1.99";

struct SynthCase {
  const char* name;
  const char* ts;
  bool pixel_signed;
  int bits_stored;
  bool per_slice_rescale;
  bool enhanced;
};

void PrintTo(const SynthCase& c, std::ostream* os) { *os << c.name; }

class SyntheticRewrite : public ::testing::TestWithParam<SynthCase> {
 protected:
  fs::path makeSeries(const std::string& tag) {
    const SynthCase& c = GetParam();
    synth::SeriesSpec spec;
    spec.volume = patternVolume(40, 32, 6);
    spec.transfer_syntax = c.ts;
    spec.pixel_signed = c.pixel_signed;
    spec.bits_stored = c.bits_stored;
    spec.enhanced_multiframe = c.enhanced;
    spec.shuffle_file_names = true;
    spec.lying_instance_numbers = !c.enhanced;
    if (c.per_slice_rescale) {
      spec.slopes = {1.0, 0.5, 2.0, 1.0, 0.25, 1.5};
      spec.intercepts = {0.0, -1024.0, 10.0, -3.0, 0.0, -1000.0};
      if (!c.pixel_signed) spec.intercepts = {-1024, -1024, -1100, -1500, -1000, -2000};
    }
    const fs::path dir = freshDir(std::string(c.name) + "-" + tag) / "in";
    synth::writeSeries(spec, dir);
    return dir;
  }
};

TEST_P(SyntheticRewrite, EmptyMaskReproducesEveryFileByteForByte) {
  const fs::path in = makeSeries("empty");
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask empty = boxMask(inv, stack, {0, 0, 0}, {0, 0, 0});
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  const RewriteResult r = rewriteSeries(inv, stack, empty, opt);
  EXPECT_EQ(r.changed_voxels, 0u);
  ASSERT_EQ(filesBelow(opt.out_root), filesBelow(in));
  for (const auto& rel : filesBelow(in)) EXPECT_TRUE(sameBytes(in / rel, opt.out_root / rel)) << rel;
  EXPECT_EQ(hashTree(in), hashes);
}

TEST_P(SyntheticRewrite, BoxMaskChangesExactlyTheMaskedVoxels) {
  const fs::path in = makeSeries("box");
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.2, 0.1, 0.3}, {0.7, 0.5, 0.9});
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  opt.fill_hu = -1000;
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  EXPECT_GT(r.changed_voxels, 0u);
  EXPECT_LE(r.changed_voxels, mask.count());
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  // Same files, same syntax, no element but PixelData changed.
  ASSERT_EQ(filesBelow(opt.out_root), filesBelow(in));
  // Deflated sources are the one exception: written as Explicit VR Little Endian
  // (files without a masked voxel are copied unchanged).
  const bool deflated = std::string(GetParam().ts) == kDeflated;
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    EXPECT_EQ(f.transfer_syntax_in, GetParam().ts);
    std::set<std::string> changed = changedElements(f.source, f.output);
    if (deflated && f.changed_voxels > 0) {
      EXPECT_EQ(f.transfer_syntax_out, "1.2.840.10008.1.2.1");
      changed.erase("0002,0000");
      EXPECT_EQ(changed, std::set<std::string>{"0002,0010"});
    } else {
      EXPECT_EQ(f.transfer_syntax_out, GetParam().ts);
      EXPECT_EQ(changed, std::set<std::string>{});
      if (f.changed_voxels > 0) {
        EXPECT_EQ(changedElements(f.source, f.output, true), std::set<std::string>{"7fe0,0010"});
      }
    }
  }
  EXPECT_EQ(hashTree(in), hashes);
}

const SynthCase kCases[] = {
    {"explicit_le_signed16", "1.2.840.10008.1.2.1", true, 16, false, false},
    {"explicit_le_unsigned12_rescale", "1.2.840.10008.1.2.1", false, 12, true, false},
    {"implicit_le_unsigned12", "1.2.840.10008.1.2", false, 12, false, false},
    {"big_endian_signed16_rescale", "1.2.840.10008.1.2.2", true, 16, true, false},
    {"deflated_signed16", "1.2.840.10008.1.2.1.99", true, 16, false, false},
    {"rle_signed16_rescale", "1.2.840.10008.1.2.5", true, 16, true, false},
    {"jpeg_lossless_sv1_unsigned12", "1.2.840.10008.1.2.4.70", false, 12, false, false},
    {"jpeg_lossless_signed16", "1.2.840.10008.1.2.4.57", true, 16, false, false},
    {"jpegls_lossless_signed12", "1.2.840.10008.1.2.4.80", true, 12, true, false},
    {"j2k_lossless_unsigned12", "1.2.840.10008.1.2.4.90", false, 12, false, false},
    {"enhanced_explicit_le_rescale", "1.2.840.10008.1.2.1", true, 16, true, true},
    {"enhanced_jpegls", "1.2.840.10008.1.2.4.80", false, 12, true, true},
};

INSTANTIATE_TEST_SUITE_P(Syntaxes, SyntheticRewrite, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ctd::test
