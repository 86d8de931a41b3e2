// Icon and min/max elements describe the old pixels: deleted exactly when a
// file's pixels change, and nothing else besides PixelData changes.
#include <gdcmItem.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmWriter.h>
#include <gtest/gtest.h>

#include "WriteTestSupport.h"
#include "synth/SyntheticSeries.h"
#include "write/SeriesRewriter.h"

namespace ctd::test {
namespace {

gdcm::DataElement ushort(std::uint16_t g, std::uint16_t e, std::uint16_t v) {
  gdcm::DataElement de(gdcm::Tag(g, e));
  de.SetVR(gdcm::VR::US);
  de.SetByteValue(reinterpret_cast<const char*>(&v), 2);
  return de;
}

// Adds a 4x4 icon and Smallest/Largest (image and series) values to a file.
void addPixelSummaries(const fs::path& file) {
  gdcm::Reader r;
  r.SetFileName(file.string().c_str());
  ASSERT_TRUE(r.Read());
  gdcm::DataSet& ds = r.GetFile().GetDataSet();
  gdcm::DataSet icon;
  icon.Replace(ushort(0x0028, 0x0002, 1));
  icon.Replace(ushort(0x0028, 0x0010, 4));
  icon.Replace(ushort(0x0028, 0x0011, 4));
  icon.Replace(ushort(0x0028, 0x0100, 8));
  icon.Replace(ushort(0x0028, 0x0101, 8));
  icon.Replace(ushort(0x0028, 0x0102, 7));
  icon.Replace(ushort(0x0028, 0x0103, 0));
  gdcm::DataElement pi(gdcm::Tag(0x0028, 0x0004));
  pi.SetVR(gdcm::VR::CS);
  pi.SetByteValue("MONOCHROME2 ", 12);
  icon.Replace(pi);
  gdcm::DataElement pixels(gdcm::Tag(0x7FE0, 0x0010));
  pixels.SetVR(gdcm::VR::OB);
  const std::string px(16, '\x40');
  pixels.SetByteValue(px.data(), 16);
  icon.Replace(pixels);
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
  gdcm::Item item;
  item.SetNestedDataSet(icon);
  sq->AddItem(item);
  gdcm::DataElement seq(gdcm::Tag(0x0088, 0x0200));
  seq.SetVR(gdcm::VR::SQ);
  seq.SetValue(*sq);
  seq.SetVLToUndefined();
  ds.Replace(seq);
  for (std::uint16_t e : {0x0106, 0x0107, 0x0108, 0x0109}) ds.Replace(ushort(0x0028, e, 100));
  gdcm::Writer w;
  w.SetFile(r.GetFile());
  w.SetFileName(file.string().c_str());
  ASSERT_TRUE(w.Write());
}

class PixelSummaries : public ::testing::TestWithParam<const char*> {};

TEST_P(PixelSummaries, DeletedOnlyFromFilesWhosePixelsChange) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(40, 32, 4);
  spec.pixel_signed = false;
  spec.transfer_syntax = GetParam();
  const fs::path dir = freshDir(std::string("summaries-") + GetParam());
  const auto files = synth::writeSeries(spec, dir / "in");
  for (const auto& f : files) addPixelSummaries(f);
  const CaseInventory inv = inventoryOf(dir / "in");
  const SeriesStack& stack = onlyStack(inv);
  const VoxelMask mask = boxMask(inv, stack, {0.1, 0.1, 0.0}, {0.5, 0.5, 0.5});  // slices 0 and 1
  RewriteOptions opt;
  opt.out_root = dir / "out";
  const RewriteResult r = rewriteSeries(inv, stack, mask, opt);
  EXPECT_EQ(maskMismatches(inv, stack, mask, opt.fill_hu, opt.out_root), 0u);
  const std::set<std::string> summaries = {"0088,0200", "0028,0106", "0028,0107", "0028,0108", "0028,0109"};
  std::size_t changed_files = 0;
  for (const FileOutcome& f : r.files) {
    SCOPED_TRACE(f.source.string());
    if (f.changed_voxels > 0) {
      ++changed_files;
      EXPECT_EQ(changedElements(f.source, f.output), summaries);
    } else {
      EXPECT_TRUE(sameBytes(f.source, f.output));
    }
  }
  EXPECT_EQ(changed_files, 2u);
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, PixelSummaries,
                         ::testing::Values("1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.80"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '.') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ctd::test
