// Files that are not DICOM, or broken DICOM, never stop a case: they are
// skipped with a reason, or (pixels) fail with an error naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <random>

#include "DicomTestSupport.h"
#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/PixelDecoder.h"
#include "dicom/SeriesAssembler.h"
#include "synth/SyntheticSeries.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

void writeBytes(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(UnreadableFiles, GarbageEmptyAndTruncatedFilesAreSkipped) {
  const fs::path dir = test::scratchDir("unreadable");
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(32, 32, 3);
  const auto files = synth::writeSeries(spec, dir);
  writeBytes(dir / "random.bin", randomBytes(1 << 20, 1));
  writeBytes(dir / "empty", "");
  writeBytes(dir / "fake.dcm", std::string(128, '\0') + "DICM" + randomBytes(4096, 2));
  // A DICOM file cut inside its header.
  std::string head(200, '\0');
  std::ifstream(files[0], std::ios::binary).read(head.data(), std::streamsize(head.size()));
  writeBytes(dir / "cut_header.dcm", head);

  const Discovery d = discoverCases(dir);
  ASSERT_EQ(d.cases.size(), 1u);
  const CaseInventory inv = assembleCase(d.cases[0]);
  ASSERT_EQ(inv.stacks.size(), 1u);
  EXPECT_EQ(inv.stacks[0].slices.size(), 3u);
  std::set<fs::path> unusable;
  for (const auto& s : inv.skipped) {
    unusable.insert(s.path.filename());
    EXPECT_FALSE(s.reason.empty());
  }
  for (const auto& s : inv.set_aside) unusable.insert(s.path.filename());
  for (const char* name : {"random.bin", "empty", "fake.dcm", "cut_header.dcm"})
    EXPECT_TRUE(unusable.count(name)) << name << " neither skipped nor set aside";
}

TEST(UnreadableFiles, AbsurdMatrixIsRefusedBeforeAllocating) {
  const fs::path dir = test::scratchDir("absurd_matrix");
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(32, 32, 1);
  const auto files = synth::writeSeries(spec, dir);
  DicomInstance inst = readInstanceHeader(files[0], dir);
  inst.rows = inst.columns = 65535;  // what a corrupt header could claim
  inst.number_of_frames = 5000;
  try {
    decodePixels(inst);
    FAIL() << "decoded an impossible matrix";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), files[0]);
    EXPECT_NE(std::string(e.what()).find("needs"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ctd
