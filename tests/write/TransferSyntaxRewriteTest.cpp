// The transfer-syntax policy on real encoded files: lossless sources keep their
// syntax, lossy ones become Explicit VR Little Endian with only the file meta
// elements that must change, and LossyImageCompression kept.
#include <gtest/gtest.h>

#include "WriteTestSupport.h"
#include "dicom/SeriesAssembler.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";

// One file as a case with one stack holding all its frames (the box mask is the
// same on every slice, so the frame order does not matter here).
CaseInventory singleFileCase(const fs::path& file) {
  CaseInventory inv;
  inv.root = file.parent_path();
  inv.instances.push_back(readInstanceHeader(file, inv.root));
  SeriesStack stack;
  stack.name = "single";
  for (std::uint32_t f = 0; f < inv.instances[0].number_of_frames; ++f) stack.slices.push_back({0, f});
  inv.stacks.push_back(stack);
  return inv;
}

struct EncodedFile {
  const char* name;
  const char* path;  // below CTD_SHARED_DATA/ct-codec-slices
  bool lossy;
};

void PrintTo(const EncodedFile& e, std::ostream* os) { *os << e.name; }

class EncodedFileRewrite : public ::testing::TestWithParam<EncodedFile> {};

TEST_P(EncodedFileRewrite, FollowsThePolicy) {
  const fs::path src = fs::path(CTD_SHARED_DATA) / "ct-codec-slices" / GetParam().path;
  const auto hashes = hashTree(src);
  const CaseInventory inv = singleFileCase(src);
  const SeriesStack& stack = inv.stacks[0];
  const VoxelMask mask = boxMask(inv, stack, {0.3, 0.3, 0.0}, {0.6, 0.5, 1.0});
  RewriteOptions opt;
  opt.out_root = freshDir(std::string("codec-") + GetParam().name);
  opt.fill_hu = -1000;
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  ASSERT_EQ(r.files.size(), 1u);
  const FileOutcome& f = r.files[0];
  EXPECT_GT(f.changed_voxels, 0u);
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  const std::string ts_in = inv.instances[0].transfer_syntax;
  EXPECT_EQ(f.transfer_syntax_in, ts_in);
  if (GetParam().lossy) {
    EXPECT_EQ(f.transfer_syntax_out, kExplicitLE);
    EXPECT_NE(f.note.find("Explicit VR Little Endian"), std::string::npos) << f.note;
    std::set<std::string> changed = changedElements(f.source, f.output);
    changed.erase("0002,0000");  // group length follows the TransferSyntaxUID length
    EXPECT_EQ(changed, std::set<std::string>{"0002,0010"});
    EXPECT_EQ(readInstanceHeader(f.output, opt.out_root).transfer_syntax, kExplicitLE);
  } else {
    EXPECT_EQ(f.transfer_syntax_out, ts_in);
    EXPECT_EQ(changedElements(f.source, f.output), std::set<std::string>{});
    EXPECT_EQ(readInstanceHeader(f.output, opt.out_root).transfer_syntax, ts_in);
  }
  const std::set<std::string> before = dciodvfyErrors(f.source);
  for (const std::string& e : dciodvfyErrors(f.output)) EXPECT_TRUE(before.count(e)) << "new error: " << e;
  EXPECT_EQ(hashTree(src), hashes);
}

const EncodedFile kFiles[] = {
    {"ct2_unc", "wg04-ct2-toshiba-head/CT2_UNC", false},
    {"ct2_rle", "wg04-ct2-toshiba-head/CT2_RLE", false},
    {"ct2_jpll", "wg04-ct2-toshiba-head/CT2_JPLL", false},
    {"ct2_jlsl", "wg04-ct2-toshiba-head/CT2_JLSL", false},
    {"ct2_j2kr", "wg04-ct2-toshiba-head/CT2_J2KR", false},
    {"ct2_jlsn", "wg04-ct2-toshiba-head/CT2_JLSN", true},
    {"ct2_j2ki", "wg04-ct2-toshiba-head/CT2_J2KI", true},
    {"ct1_jpll", "wg04-ct1-ge/CT1_JPLL", false},
    {"ct1_jlsl", "wg04-ct1-ge/CT1_JLSL", false},
    {"ct1_j2kr", "wg04-ct1-ge/CT1_J2KR", false},
    {"ct1_rle", "wg04-ct1-ge/CT1_RLE", false},
    {"ct1_jlsn", "wg04-ct1-ge/CT1_JLSN", true},
    {"ct1_j2ki", "wg04-ct1-ge/CT1_J2KI", true},
    {"head693_j2kr", "pydicom-693-head/693_J2KR.dcm", false},
    {"head693_uncr", "pydicom-693-head/693_UNCR.dcm", false},
    {"enhanced_ct_explicit", "enhanced-ct/eCT_Supplemental.dcm", false},
    {"enhanced_ct_jpeg_extended", "enhanced-ct/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm", true},
};

INSTANTIATE_TEST_SUITE_P(CodecSlices, EncodedFileRewrite, ::testing::ValuesIn(kFiles),
                         [](const auto& info) { return std::string(info.param.name); });

// A whole real series in each lossless transcode (Slicer head): syntax kept
// (deflated: see above), only PixelData changed, exactly the masked voxels.
class DerivedSyntaxSeries : public ::testing::TestWithParam<const char*> {};

TEST_P(DerivedSyntaxSeries, KeepsSyntaxAndChangesOnlyMaskedVoxels) {
  const fs::path in = fs::path(CTD_SHARED_DATA) / "ct-head-fullface-slicer" / "derived-transfer-syntaxes" / GetParam();
  const auto hashes = hashTree(in);
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.1, 0.5, 0.1}, {0.9, 1.0, 0.4});
  RewriteOptions opt;
  opt.out_root = freshDir(std::string("derived-") + GetParam());
  opt.fill_hu = 0;  // the header lies (air is 0): callers pass fill in the file's own units
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  EXPECT_GT(r.changed_voxels, 0u);
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    std::set<std::string> changed = changedElements(f.source, f.output);
    if (f.transfer_syntax_in == "1.2.840.10008.1.2.1.99" && f.changed_voxels > 0) {
      // Deflated sources are written as Explicit VR Little Endian (docs/write-side.md).
      EXPECT_EQ(f.transfer_syntax_out, kExplicitLE);
      changed.erase("0002,0000");
      EXPECT_EQ(changed, std::set<std::string>{"0002,0010"});
    } else {
      EXPECT_EQ(f.transfer_syntax_out, f.transfer_syntax_in);
      EXPECT_EQ(changed, std::set<std::string>{});
    }
  }
  EXPECT_EQ(hashTree(in), hashes);
}

INSTANTIATE_TEST_SUITE_P(SlicerHead, DerivedSyntaxSeries,
                         ::testing::Values("big-endian", "deflated", "implicit", "j2k", "jpeg-lossless-sv1", "jpegls",
                                           "rle"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ctd::test
