// patchNativePixels on a byte copy of its source takes the PixelData offset
// the header pass recorded, and only when the element header there agrees;
// a wrong recorded offset falls back to GDCM's parse. Either way exactly the
// intended samples change and nothing outside PixelData does.
#include <gtest/gtest.h>

#include "WriteTestSupport.h"
#include "synth/SyntheticSeries.h"
#include "write/NativePixelPatch.h"
#include "write/StoredSamples.h"

namespace ctd::test {
namespace {

class NativePatchOffset : public ::testing::TestWithParam<const char*> {};

TEST_P(NativePatchOffset, RecordedOffsetOrFallbackPatchesExactlyTheChangedSamples) {
  synth::SeriesSpec spec;
  spec.volume = patternVolume(40, 32, 3);
  spec.transfer_syntax = GetParam();
  const fs::path dir = freshDir(std::string("native-patch-offset-") + (std::string(GetParam()).size() > 17 ? "explicit" : "implicit"));
  synth::writeSeries(spec, dir / "in");
  const CaseInventory inv = inventoryOf(dir / "in");
  const DicomInstance& src = inv.instances.at(onlyStack(inv).slices.at(1).instance);
  ASSERT_NE(src.pixel_data_offset, 0u);

  // Recorded offset as found, then one that points into the header (no
  // PixelData element there), then one past the end of the file.
  for (std::uint64_t offset : {src.pixel_data_offset, std::uint64_t{140}, std::uint64_t{1} << 40}) {
    const fs::path copy = dir / ("copy-" + std::to_string(offset) + ".dcm");
    fs::copy_file(src.path, copy, fs::copy_options::overwrite_existing);
    DicomInstance at_copy = src;
    at_copy.path = copy;
    at_copy.pixel_data_offset = offset;
    std::vector<std::int32_t> before;
    ASSERT_TRUE(readNativeStored(src, before));
    std::vector<std::int32_t> after = before;
    for (std::size_t i : {std::size_t{0}, std::size_t{41}, std::size_t{700}, after.size() - 1}) after[i] = 7;
    patchNativePixels(copy, at_copy, before, after, true);
    EXPECT_EQ(storedValues(copy), after) << "offset " << offset;
    EXPECT_TRUE(changedElements(src.path, copy, false).empty()) << "offset " << offset;
    EXPECT_EQ(fs::file_size(copy), fs::file_size(src.path));
  }
}

INSTANTIATE_TEST_SUITE_P(Syntaxes, NativePatchOffset,
                         ::testing::Values("1.2.840.10008.1.2.1", "1.2.840.10008.1.2"));

}  // namespace
}  // namespace ctd::test
