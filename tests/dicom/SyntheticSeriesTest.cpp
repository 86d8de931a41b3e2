// Round trips through ctd::synth::writeSeries: the loaded Volume must give back
// the written HU values at the written world positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "DicomTestSupport.h"
#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "synth/SyntheticSeries.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

bool anyContains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

CaseInventory assembleDir(const fs::path& dir) {
  const Discovery d = discoverCases(dir);
  EXPECT_EQ(d.cases.size(), 1u);
  return assembleCase(d.cases.at(0));
}

// HU the files can hold: stored = round((hu - b) / m), clamped, back to HU.
float representable(const synth::SeriesSpec& spec, std::size_t k, float hu) {
  const double m = k < spec.slopes.size() ? spec.slopes[k] : 1.0;
  const double b = k < spec.intercepts.size() ? spec.intercepts[k] : (spec.pixel_signed ? 0.0 : -1024.0);
  const double lo = spec.pixel_signed ? -std::ldexp(1.0, spec.bits_stored - 1) : 0.0;
  const double hi = spec.pixel_signed ? std::ldexp(1.0, spec.bits_stored - 1) - 1 : std::ldexp(1.0, spec.bits_stored) - 1;
  const double s = std::clamp(std::round((hu - b) / m), lo, hi);
  return static_cast<float>(s * m + b);
}

// Every voxel's HU and a grid of world positions equal the spec's.
void expectSameVolume(const Volume& got, const synth::SeriesSpec& spec) {
  const Volume& want = spec.volume;
  ASSERT_EQ(got.nx, want.nx);
  ASSERT_EQ(got.ny, want.ny);
  ASSERT_EQ(got.nz, want.nz);
  for (std::size_t k = 0; k < want.nz; ++k)
    for (std::size_t j = 0; j < want.ny; ++j)
      for (std::size_t i = 0; i < want.nx; ++i)
        ASSERT_EQ(got.at(i, j, k), representable(spec, k, want.at(i, j, k))) << "voxel " << i << "," << j << "," << k;
  for (std::size_t k = 0; k < want.nz; ++k)
    for (const auto& [i, j] : {std::pair<double, double>{0, 0}, {double(want.nx - 1), 0}, {3.5, double(want.ny - 1)}}) {
      const Vec3 a = got.world(i, j, k), b = want.world(i, j, k);
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(a[c], b[c], 1e-4) << "world(" << i << "," << j << "," << k << ")";
    }
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(got.normal[c], normalized(cross(want.row_dir, want.col_dir))[c], 1e-6);
}

Volume loadOnly(const fs::path& dir, CaseInventory* out = nullptr) {
  CaseInventory inv = assembleDir(dir);
  EXPECT_EQ(inv.stacks.size(), 1u);
  if (inv.stacks.empty()) return {};
  Volume v = loadVolume(inv, inv.stacks[0]);
  if (out) *out = std::move(inv);
  return v;
}

TEST(Synthetic, ShuffledFilesAndLyingInstanceNumbersSortByPosition) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(9, 7, 8);
  spec.shuffle_file_names = true;
  spec.lying_instance_numbers = true;
  spec.dcm_extension = false;
  const fs::path dir = test::scratchDir("shuffled");
  const auto files = synth::writeSeries(spec, dir);
  ASSERT_EQ(files.size(), 8u);
  EXPECT_FALSE(std::is_sorted(files.begin(), files.end())) << "file names should not follow slice order";
  for (const auto& f : files) EXPECT_EQ(f.extension(), "");
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  // Instance numbers do not follow the slices.
  std::vector<int> numbers;
  for (const auto& s : inv.stacks[0].slices) numbers.push_back(inv.instances[s.instance].instance_number);
  EXPECT_FALSE(std::is_sorted(numbers.begin(), numbers.end()));
  EXPECT_TRUE(inv.stacks[0].warnings.empty()) << ::testing::PrintToString(inv.stacks[0].warnings);
}

TEST(Synthetic, SignedUnsignedAndTwelveBitStorage) {
  struct Case {
    bool is_signed;
    int bits;
  };
  for (const Case c : {Case{true, 16}, Case{false, 16}, Case{true, 12}, Case{false, 12}}) {
    synth::SeriesSpec spec;
    spec.volume = test::patternVolume(6, 5, 3, -1024, 3000, 11);
    spec.pixel_signed = c.is_signed;
    spec.bits_stored = c.bits;
    const fs::path dir = test::scratchDir("storage_" + std::to_string(c.is_signed) + "_" + std::to_string(c.bits));
    synth::writeSeries(spec, dir);
    CaseInventory inv;
    const Volume v = loadOnly(dir, &inv);
    SCOPED_TRACE((c.is_signed ? "signed " : "unsigned ") + std::to_string(c.bits));
    EXPECT_EQ(inv.instances[0].pixel_representation, c.is_signed ? 1 : 0);
    EXPECT_EQ(inv.instances[0].bits_stored, c.bits);
    expectSameVolume(v, spec);
  }
}

TEST(Synthetic, PerSliceRescaleIsAppliedPerSlice) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(6, 6, 4, -1000, 2500, 3);
  spec.slopes = {1.0, 0.5, 2.0, 1.0};
  spec.intercepts = {-1024.0, -1000.0, 0.0, -3000.0};
  const fs::path dir = test::scratchDir("rescale");
  synth::writeSeries(spec, dir);
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  // The slices really do carry different slopes.
  std::vector<double> slopes;
  for (const auto& s : inv.stacks[0].slices) slopes.push_back(inv.instances[s.instance].frames[0].slope);
  EXPECT_EQ(slopes, spec.slopes);
}

TEST(Synthetic, EveryTransferSyntaxRoundTripsExactly) {
  const char* syntaxes[] = {
      "1.2.840.10008.1.2",       // implicit VR LE
      "1.2.840.10008.1.2.2",     // explicit VR BE
      "1.2.840.10008.1.2.1.99",  // deflated
      "1.2.840.10008.1.2.4.57",  // JPEG lossless
      "1.2.840.10008.1.2.4.70",  // JPEG lossless SV1
      "1.2.840.10008.1.2.4.80",  // JPEG-LS lossless
      "1.2.840.10008.1.2.4.90",  // JPEG 2000 lossless
      "1.2.840.10008.1.2.5",     // RLE
  };
  int n = 0;
  for (const char* ts : syntaxes) {
    for (const bool is_signed : {true, false}) {
      for (const int bits : {16, 12}) {
        synth::SeriesSpec spec;
        spec.volume = test::patternVolume(40, 32, 3, -1024, 3000, 5 + n);
        spec.transfer_syntax = ts;
        spec.pixel_signed = is_signed;
        spec.bits_stored = bits;
        const fs::path dir = test::scratchDir("ts_" + std::to_string(n++));
        synth::writeSeries(spec, dir);
        CaseInventory inv;
        const Volume v = loadOnly(dir, &inv);
        SCOPED_TRACE(std::string(ts) + (is_signed ? " signed " : " unsigned ") + std::to_string(bits));
        EXPECT_EQ(inv.instances.at(0).transfer_syntax, ts);
        expectSameVolume(v, spec);
      }
    }
  }
}

TEST(Synthetic, GdcmconvCompressedCopiesDecodeIdentically) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(20, 14, 2, -1024, 2500, 21);
  const fs::path src = test::scratchDir("gdcmconv_src");
  const auto files = synth::writeSeries(spec, src);
  const std::pair<const char*, const char*> modes[] = {{"--jpeg", "1.2.840.10008.1.2.4.70"},
                                                       {"--jpegls", "1.2.840.10008.1.2.4.80"},
                                                       {"--j2k", "1.2.840.10008.1.2.4.90"},
                                                       {"--rle", "1.2.840.10008.1.2.5"}};
  for (const auto& [flag, ts] : modes) {
    const fs::path dir = test::scratchDir(std::string("gdcmconv_") + (flag + 2));
    for (const auto& f : files) {
      const std::string cmd = std::string("gdcmconv ") + flag + " '" + f.string() + "' '" + (dir / f.filename()).string() + "'";
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    CaseInventory inv;
    const Volume v = loadOnly(dir, &inv);
    SCOPED_TRACE(flag);
    EXPECT_EQ(inv.instances.at(0).transfer_syntax, ts);
    expectSameVolume(v, spec);
  }
}

TEST(Synthetic, MissingSliceIsKeptAsAGapWithAWarning) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(5, 4, 5);
  spec.volume.slice_pos = {{0, 0, 0}, {0, 0, 2}, {0, 0, 4}, {0, 0, 8}, {0, 0, 10}};
  const fs::path dir = test::scratchDir("missing");
  synth::writeSeries(spec, dir);
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  EXPECT_TRUE(anyContains(inv.stacks[0].warnings, "missing slice(s): gap of 4.00 mm (2 x the usual 2.00 mm)"))
      << ::testing::PrintToString(inv.stacks[0].warnings);
}

TEST(Synthetic, DuplicateFileIsDroppedWithAWarning) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(5, 4, 4);
  const fs::path dir = test::scratchDir("duplicate");
  const auto files = synth::writeSeries(spec, dir);
  fs::copy_file(files[2], dir / "copy_of_slice_3.dcm");
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  EXPECT_TRUE(anyContains(inv.stacks[0].warnings, "dropped 1 duplicate slice(s)"))
      << ::testing::PrintToString(inv.stacks[0].warnings);
  ASSERT_EQ(inv.set_aside.size(), 1u);
  EXPECT_NE(inv.set_aside[0].reason.find("same SOPInstanceUID"), std::string::npos) << inv.set_aside[0].reason;
}

TEST(Synthetic, SameSeriesWrittenTwiceWithIdenticalPixelsKeepsOneStack) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(5, 4, 3);
  spec.series_uid = "1.2.826.0.1.3680043.9.7777.1";
  spec.study_uid = "1.2.826.0.1.3680043.9.7777.100";
  const fs::path dir = test::scratchDir("identical_pixels");
  synth::writeSeries(spec, dir / "a");
  synth::writeSeries(spec, dir / "b");  // new SOPInstanceUIDs, same pixels
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  EXPECT_EQ(inv.set_aside.size(), 3u);
  for (const auto& a : inv.set_aside) EXPECT_NE(a.reason.find("identical pixels"), std::string::npos) << a.reason;
}

TEST(Synthetic, RepeatedStacksWithDifferentPixelsAreSplit) {
  synth::SeriesSpec a, b;
  a.volume = test::patternVolume(5, 4, 3, -1024, 3000, 1);
  b.volume = test::patternVolume(5, 4, 3, -1024, 3000, 2);
  a.series_uid = b.series_uid = "1.2.826.0.1.3680043.9.7777.2";
  a.study_uid = b.study_uid = "1.2.826.0.1.3680043.9.7777.100";
  a.series_description = b.series_description = "Head 5mm/soft";
  a.series_number = b.series_number = 3;
  const fs::path dir = test::scratchDir("split");
  synth::writeSeries(a, dir / "a");
  synth::writeSeries(b, dir / "b");
  const CaseInventory inv = assembleDir(dir);
  ASSERT_EQ(inv.stacks.size(), 2u);
  EXPECT_EQ(inv.stacks[0].name, "3_Head_5mm_soft");
  EXPECT_EQ(inv.stacks[1].name, "3_Head_5mm_soft_2");
  EXPECT_TRUE(anyContains(inv.stacks[0].warnings, "split into 2 stacks"));
  // Equal AcquisitionNumber and InstanceNumber: file path decides, so a/ first.
  expectSameVolume(loadVolume(inv, inv.stacks[0]), a);
  expectSameVolume(loadVolume(inv, inv.stacks[1]), b);
}

TEST(Synthetic, IncompleteRepeatIsSetAsideWithAReason) {
  synth::SeriesSpec a, b;
  a.volume = test::patternVolume(5, 4, 4, -1024, 3000, 1);
  b.volume = test::patternVolume(5, 4, 1, -1024, 3000, 2);
  b.volume.slice_pos = {a.volume.slice_pos[1]};
  a.series_uid = b.series_uid = "1.2.826.0.1.3680043.9.7777.3";
  a.study_uid = b.study_uid = "1.2.826.0.1.3680043.9.7777.100";
  const fs::path dir = test::scratchDir("incomplete_repeat");
  synth::writeSeries(a, dir / "a");
  synth::writeSeries(b, dir / "b");
  const CaseInventory inv = assembleDir(dir);
  EXPECT_TRUE(inv.stacks.empty());
  ASSERT_EQ(inv.set_aside.size(), 5u);
  for (const auto& s : inv.set_aside)
    EXPECT_NE(s.reason.find("do not form complete stacks"), std::string::npos) << s.reason;
}

// Stack with the given in-plane axes; slices step along their normal (+ shear).
Volume orientedVolume(const Vec3& row, const Vec3& col, const Vec3& shear, unsigned seed, std::size_t n = 7) {
  Volume v = test::patternVolume(n, n - 2, 4, -1024, 3000, seed);
  v.row_dir = normalized(row);
  v.col_dir = normalized(col);
  v.normal = normalized(cross(v.row_dir, v.col_dir));
  const Vec3 origin{-12.25, 40.5, 7.125};
  for (std::size_t k = 0; k < v.nz; ++k) v.slice_pos[k] = origin + (1.25 * double(k)) * (v.normal + shear);
  return v;
}

TEST(Synthetic, ObliqueSagittalAndCoronalStacks) {
  struct Case {
    const char* name;
    Vec3 row, col, shear;
  };
  const Vec3 none{0, 0, 0};
  const Case cases[] = {
      {"sagittal", {0, 1, 0}, {0, 0, -1}, none},
      {"coronal", {1, 0, 0}, {0, 0, -1}, none},
      {"oblique", {0.8, 0.6, 0}, {-0.36, 0.48, -0.8}, none},
      {"tilted", {1, 0, 0}, {0, 0.948, -0.317}, {0, -0.317 * 0.3, 0}},
  };
  unsigned seed = 40;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    synth::SeriesSpec spec;
    spec.volume = orientedVolume(c.row, c.col, c.shear, seed++);
    spec.shuffle_file_names = true;
    const fs::path dir = test::scratchDir(std::string("orient_") + c.name);
    synth::writeSeries(spec, dir);
    CaseInventory inv;
    const Volume v = loadOnly(dir, &inv);
    expectSameVolume(v, spec);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(v.row_dir[i], spec.volume.row_dir[i], 1e-6);
      EXPECT_NEAR(v.col_dir[i], spec.volume.col_dir[i], 1e-6);
    }
    EXPECT_EQ(anyContains(inv.stacks[0].warnings, "gantry tilt"), std::string(c.name) == "tilted")
        << ::testing::PrintToString(inv.stacks[0].warnings);
  }
}

TEST(Synthetic, EnhancedMultiframeWithShuffledFrames) {
  synth::SeriesSpec spec;
  spec.volume = orientedVolume({1, 0, 0}, {0, 1, 0}, {0, 0, 0}, 77, 40);
  spec.enhanced_multiframe = true;
  spec.shuffle_file_names = true;  // frames out of spatial order
  spec.slopes = {1.0, 2.0, 1.0, 0.5};
  spec.intercepts = {-1024, 0, -2000, -1000};
  for (const char* ts : {"1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.5"}) {
    SCOPED_TRACE(ts);
    spec.transfer_syntax = ts;
    const fs::path dir = test::scratchDir(std::string("enhanced_") + ts);
    const auto files = synth::writeSeries(spec, dir);
    ASSERT_EQ(files.size(), 1u);
    CaseInventory inv;
    const Volume v = loadOnly(dir, &inv);
    ASSERT_EQ(inv.instances.size(), 1u);
    EXPECT_EQ(inv.instances[0].sop_class_uid, "1.2.840.10008.5.1.4.1.1.2.1");
    EXPECT_EQ(inv.instances[0].number_of_frames, 4u);
    std::vector<std::uint32_t> frames;
    for (const auto& s : inv.stacks[0].slices) frames.push_back(s.frame);
    EXPECT_FALSE(std::is_sorted(frames.begin(), frames.end())) << "frames should be out of spatial order";
    expectSameVolume(v, spec);
  }
}

TEST(Synthetic, TinyJpeg2000FramesAreRefusedNotOverflowed) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(7, 5, 2);
  spec.transfer_syntax = "1.2.840.10008.1.2.4.90";
  EXPECT_THROW(synth::writeSeries(spec, test::scratchDir("tiny_j2k")), Error);
}

TEST(Synthetic, SingleSliceLoads) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(8, 8, 1);
  const fs::path dir = test::scratchDir("single");
  synth::writeSeries(spec, dir);
  CaseInventory inv;
  const Volume v = loadOnly(dir, &inv);
  expectSameVolume(v, spec);
  EXPECT_EQ(inv.stacks[0].name, "1_synthetic");
}

TEST(Synthetic, TruncatedPixelDataIsAnErrorNamingTheFile) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(64, 64, 2);
  const fs::path dir = test::scratchDir("truncated");
  const auto files = synth::writeSeries(spec, dir);
  fs::resize_file(files[1], fs::file_size(files[1]) - 4000);
  // Refused before GDCM parses it (GDCM's assertions abort on cut files; see
  // ElementWalk.h): listed as not readable, with the element that is cut.
  const CaseInventory inv = assembleDir(dir);
  bool named = false;
  for (const auto& s : inv.skipped)
    if (s.path == files[1]) {
      named = true;
      EXPECT_NE(s.reason.find("truncated file: (7FE0,0010) PixelData"), std::string::npos) << s.reason;
    }
  EXPECT_TRUE(named) << "the truncated file is not listed";
  for (const auto& st : inv.stacks)
    for (const auto& sl : st.slices) EXPECT_NE(inv.instances[sl.instance].path, files[1]);
}

}  // namespace
}  // namespace ctd
