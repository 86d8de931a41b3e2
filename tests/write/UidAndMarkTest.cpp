// --new-uids and --mark-defaced: exactly the documented elements change.
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "WriteTestSupport.h"
#include "dicom/SeriesAssembler.h"
#include "synth/SyntheticSeries.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

const std::set<std::string> kUidElements = {"0002,0003", "0008,0018", "0020,000e"};
const std::set<std::string> kMarkElements = {"0008,0008", "0008,2111", "0008,9215",
                                             "0012,0063", "0012,0064", "0028,0302"};

fs::path syntheticSeries(const std::string& name, const char* ts) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(24, 20, 5);
  spec.transfer_syntax = ts;
  const fs::path dir = freshDir(name) / "in";
  synth::writeSeries(spec, dir);
  return dir;
}

std::set<std::string> without(std::set<std::string> s, const std::set<std::string>& drop) {
  for (const auto& d : drop) s.erase(d);
  return s;
}

class Options : public ::testing::TestWithParam<const char*> {};

TEST_P(Options, NewUidsChangeOnlySopAndSeriesUids) {
  const fs::path in = syntheticSeries(std::string("uids-") + GetParam(), GetParam());
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.2, 0.2, 0.0}, {0.6, 0.6, 0.6});
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  opt.new_uids = true;
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  std::set<std::string> series_uids, sop_uids;
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    // Group length follows the new MediaStorageSOPInstanceUID's length.
    EXPECT_EQ(without(changedElements(f.source, f.output), {"0002,0000"}), kUidElements);
    const std::string sop = elementString(f.output, 0x0008, 0x0018);
    EXPECT_EQ(elementString(f.output, 0x0002, 0x0003), sop);
    EXPECT_NE(sop, elementString(f.source, 0x0008, 0x0018));
    sop_uids.insert(sop);
    series_uids.insert(elementString(f.output, 0x0020, 0x000E));
    EXPECT_EQ(elementString(f.output, 0x0020, 0x000D), elementString(f.source, 0x0020, 0x000D));
    EXPECT_EQ(elementString(f.output, 0x0020, 0x0052), elementString(f.source, 0x0020, 0x0052));
  }
  EXPECT_EQ(sop_uids.size(), r.files.size());
  ASSERT_EQ(series_uids.size(), 1u);  // one new series UID for the whole series
  EXPECT_NE(*series_uids.begin(), stack.series_uid);
}

TEST_P(Options, MarkDefacedChangesOnlyTheDocumentedElements) {
  const fs::path in = syntheticSeries(std::string("mark-") + GetParam(), GetParam());
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.2, 0.2, 0.0}, {0.6, 0.6, 0.6});
  RewriteOptions opt;
  opt.out_root = in.parent_path() / "out";
  opt.mark_defaced = true;
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    EXPECT_EQ(changedElements(f.source, f.output), kMarkElements);
    EXPECT_EQ(elementString(f.output, 0x0008, 0x0008), "DERIVED\\SECONDARY\\AXIAL");
    EXPECT_EQ(elementString(f.output, 0x0028, 0x0302), "NO");
    EXPECT_EQ(codeValues(f.output, 0x0012, 0x0064), std::vector<std::string>{"113102"});
    EXPECT_EQ(codeValues(f.output, 0x0008, 0x9215), std::vector<std::string>{"113077"});
    EXPECT_NE(elementString(f.output, 0x0008, 0x2111).find("-1000 HU"), std::string::npos);
    EXPECT_EQ(elementString(f.output, 0x0012, 0x0062), "");  // PatientIdentityRemoved not added
    EXPECT_EQ(f.transfer_syntax_out, f.transfer_syntax_in);
  }
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, Options,
                         ::testing::Values("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.2",
                                           "1.2.840.10008.1.2.4.80"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '.') c = '_';
                           return n;
                         });

// The real GE head already says PatientIdentityRemoved YES and has an empty
// DeidentificationMethod: both options together, validator errors not increased.
TEST(OptionsOnRealSeries, GeHeadMarkedWithNewUidsValidatesAsWellAsItsSource) {
  const fs::path in = fs::path(CTD_SHARED_DATA) / "ct-head-ge-tilt";
  const CaseInventory inv = inventoryOf(in);
  const SeriesStack& stack = inv.stacks.front();
  RewriteOptions opt;
  opt.out_root = freshDir("ge-marked");
  opt.new_uids = true;
  opt.mark_defaced = true;
  const RewriteResult r = rewriteSeries(inv, stack, boxMask(inv, stack, {0.3, 0.0, 0.0}, {0.7, 0.3, 0.3}), opt);
  std::set<std::string> allowed = kUidElements;
  allowed.insert(kMarkElements.begin(), kMarkElements.end());
  allowed.insert("0002,0000");
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    const std::set<std::string> changed = changedElements(f.source, f.output);
    for (const auto& c : changed) EXPECT_TRUE(allowed.count(c)) << c;
    for (const auto& m : kMarkElements)
      EXPECT_TRUE(changed.count(m)) << m;
    // Values 3+ kept as the source has them (AXIAL, some files AXIAL\ADD).
    const std::string src_type = elementString(f.source, 0x0008, 0x0008);
    ASSERT_EQ(src_type.rfind("ORIGINAL\\PRIMARY\\", 0), 0u);
    EXPECT_EQ(elementString(f.output, 0x0008, 0x0008), "DERIVED\\SECONDARY\\" + src_type.substr(17));
    EXPECT_EQ(elementString(f.output, 0x0012, 0x0062), "YES");
    const std::set<std::string> before = dciodvfyErrors(f.source);
    for (const std::string& e : dciodvfyErrors(f.output)) EXPECT_TRUE(before.count(e)) << "new error: " << e;
  }
}

}  // namespace
}  // namespace ctd::test

namespace ctd::test {
namespace {

// Enhanced CT repeats the image type per frame: FrameType follows ImageType;
// value 2 stays PRIMARY, the only value Enhanced CT allows.
TEST(OptionsOnRealSeries, EnhancedCtFrameTypeFollowsImageType) {
  // The shared file is already DERIVED: make an ORIGINAL copy of it (same value
  // length, so nothing else moves) in ImageType and the shared FrameType.
  const fs::path dir = freshDir("enhanced-marked");
  const fs::path file = dir / "eCT_original.dcm";
  {
    std::ifstream in(fs::path(CTD_SHARED_DATA) / "ct-codec-slices/enhanced-ct/eCT_Supplemental.dcm", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "DERIVED\\PRIMARY\\PERFUSION\\RCBF", to = "ORIGINAL\\PRIMARY\\PERFUSION\\CBF";
    std::size_t replaced = 0;
    for (std::size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + 1), ++replaced)
      bytes.replace(at, from.size(), to);
    ASSERT_EQ(replaced, 2u);
    std::ofstream(file, std::ios::binary) << bytes;
  }
  CaseInventory inv;
  inv.root = file.parent_path();
  inv.instances.push_back(readInstanceHeader(file, inv.root));
  SeriesStack stack;
  for (std::uint32_t f = 0; f < inv.instances[0].number_of_frames; ++f) stack.slices.push_back({0, f});
  RewriteOptions opt;
  opt.out_root = dir / "out";
  opt.mark_defaced = true;
  const RewriteResult r = rewriteSeries(inv, stack, boxMask(inv, stack, {0, 0, 0}, {0, 0, 0}), opt);
  ASSERT_EQ(r.files.size(), 1u);
  const fs::path out = r.files[0].output;
  std::set<std::string> expected = kMarkElements;
  expected.insert("5200,9229");  // shared functional groups: CT Image Frame Type Sequence
  EXPECT_EQ(changedElements(file, out), expected);
  EXPECT_EQ(elementString(out, 0x0008, 0x0008), "DERIVED\\PRIMARY\\PERFUSION\\CBF");
  gdcm::Reader reader;
  reader.SetFileName(out.string().c_str());
  ASSERT_TRUE(reader.Read());
  const auto shared = reader.GetFile().GetDataSet().GetDataElement(gdcm::Tag(0x5200, 0x9229)).GetValueAsSQ();
  ASSERT_TRUE(shared);
  const auto frame_type_seq = shared->GetItem(1).GetNestedDataSet().GetDataElement(gdcm::Tag(0x0018, 0x9329)).GetValueAsSQ();
  ASSERT_TRUE(frame_type_seq);
  const gdcm::ByteValue* bv =
      frame_type_seq->GetItem(1).GetNestedDataSet().GetDataElement(gdcm::Tag(0x0008, 0x9007)).GetByteValue();
  ASSERT_NE(bv, nullptr);
  std::string frame_type(bv->GetPointer(), bv->GetLength());
  while (!frame_type.empty() && frame_type.back() == ' ') frame_type.pop_back();
  EXPECT_EQ(frame_type, "DERIVED\\PRIMARY\\PERFUSION\\CBF");
  const std::set<std::string> before = dciodvfyErrors(file);
  for (const std::string& e : dciodvfyErrors(out)) EXPECT_TRUE(before.count(e)) << "new error: " << e;
}

}  // namespace
}  // namespace ctd::test
