// discoverCases: single case, study split in series folders, root of cases,
// non-DICOM files, DICOMDIR and symbolic link loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "DicomTestSupport.h"
#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "synth/SyntheticSeries.h"

namespace ctd {
namespace {

namespace fs = std::filesystem;

void writeText(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

std::vector<fs::path> writeCt(const fs::path& dir, const std::string& study, int series_number, bool dcm_ext = true) {
  synth::SeriesSpec spec;
  spec.volume = test::patternVolume(4, 4, 3, -1024, 3000, unsigned(series_number));
  spec.study_uid = study;
  spec.series_number = series_number;
  spec.dcm_extension = dcm_ext;
  return synth::writeSeries(spec, dir);
}

bool listed(const std::vector<SetAside>& v, const fs::path& p) {
  return std::any_of(v.begin(), v.end(), [&](const SetAside& s) { return s.path == p; });
}

TEST(CaseDiscovery, FolderWithDicomFilesIsOneCase) {
  const fs::path dir = test::scratchDir("disc_single");
  const auto files = writeCt(dir, "1.2.3.1", 1, /*dcm_ext=*/false);
  writeText(dir / "notes.txt", "not dicom");
  const Discovery d = discoverCases(dir);
  EXPECT_TRUE(d.single_case);
  ASSERT_EQ(d.cases.size(), 1u);
  EXPECT_EQ(d.cases[0].root, dir);
  EXPECT_EQ(d.cases[0].name, "");
  EXPECT_EQ(d.cases[0].files.size(), 4u);
  EXPECT_TRUE(std::is_sorted(d.cases[0].files.begin(), d.cases[0].files.end()));
  const CaseInventory inv = assembleCase(d.cases[0]);
  ASSERT_EQ(inv.stacks.size(), 1u);
  EXPECT_EQ(inv.stacks[0].slices.size(), 3u);
  ASSERT_EQ(inv.skipped.size(), 1u);
  EXPECT_EQ(inv.skipped[0].path, dir / "notes.txt");
  EXPECT_NE(inv.skipped[0].reason.find("not a DICOM file"), std::string::npos) << inv.skipped[0].reason;
  for (const auto& inst : inv.instances) EXPECT_EQ(inst.relative, inst.path.filename());
}

TEST(CaseDiscovery, StudySplitIntoSeriesFoldersIsOneCase) {
  const fs::path dir = test::scratchDir("disc_study_split");
  writeCt(dir / "series1", "1.2.3.2", 1);
  writeCt(dir / "series2" / "deeper", "1.2.3.2", 2);
  const Discovery d = discoverCases(dir);
  EXPECT_TRUE(d.single_case);
  ASSERT_EQ(d.cases.size(), 1u);
  EXPECT_EQ(d.cases[0].files.size(), 6u);
  const CaseInventory inv = assembleCase(d.cases[0]);
  ASSERT_EQ(inv.stacks.size(), 2u);
  EXPECT_EQ(inv.stacks[0].name, "1_synthetic");
  EXPECT_EQ(inv.stacks[1].name, "2_synthetic");
  EXPECT_EQ(inv.instances[inv.stacks[1].slices[0].instance].relative.parent_path(), fs::path("series2/deeper"));
}

TEST(CaseDiscovery, RootOfCasesGivesOneCasePerSubfolder) {
  const fs::path dir = test::scratchDir("disc_root");
  writeCt(dir / "patientA", "1.2.3.10", 1);
  writeCt(dir / "patientB" / "study" / "ct", "1.2.3.20", 1, false);
  writeText(dir / "README.txt", "index");
  writeText(dir / "empty" / "nothing.txt", "no dicom here");
  const Discovery d = discoverCases(dir);
  EXPECT_FALSE(d.single_case);
  ASSERT_EQ(d.cases.size(), 2u);
  EXPECT_EQ(d.cases[0].name, "patientA");
  EXPECT_EQ(d.cases[0].root, dir / "patientA");
  EXPECT_EQ(d.cases[1].name, "patientB");
  EXPECT_EQ(d.cases[1].files.size(), 3u);
  EXPECT_TRUE(listed(d.skipped, dir / "README.txt"));
  EXPECT_TRUE(listed(d.skipped, dir / "empty"));
  const CaseInventory b = assembleCase(d.cases[1]);
  ASSERT_EQ(b.stacks.size(), 1u);
  EXPECT_EQ(b.instances[0].relative.parent_path(), fs::path("study/ct"));
}

TEST(CaseDiscovery, DicomdirAtTheTopMakesOneCaseAndIsSetAside) {
  const fs::path dir = test::scratchDir("disc_dicomdir");
  fs::copy_file(test::sharedData("ct-phantom-philips-multiseries/DICOMDIR"), dir / "DICOMDIR");
  writeCt(dir / "A", "1.2.3.30", 1);
  writeCt(dir / "B", "1.2.3.40", 2);  // another study, still one case: rule (a)
  const Discovery d = discoverCases(dir);
  EXPECT_TRUE(d.single_case);
  ASSERT_EQ(d.cases.size(), 1u);
  const CaseInventory inv = assembleCase(d.cases[0]);
  EXPECT_EQ(inv.stacks.size(), 2u);
  ASSERT_EQ(inv.set_aside.size(), 1u);
  EXPECT_EQ(inv.set_aside[0].path, dir / "DICOMDIR");
  EXPECT_EQ(inv.set_aside[0].reason, "DICOMDIR media directory");
}

TEST(CaseDiscovery, SymlinkLoopIsSkippedAndListed) {
  const fs::path dir = test::scratchDir("disc_loop");
  writeCt(dir / "caseA", "1.2.3.50", 1);
  writeCt(dir / "caseB", "1.2.3.60", 1);
  fs::create_directory_symlink(dir / "caseA", dir / "caseA" / "loop");
  fs::create_symlink(dir / "missing-target", dir / "caseB" / "dangling");
  const Discovery d = discoverCases(dir);
  ASSERT_EQ(d.cases.size(), 2u);
  EXPECT_EQ(d.cases[0].files.size(), 3u);  // not walked again through the loop
  EXPECT_TRUE(listed(d.skipped, dir / "caseA" / "loop"));
  EXPECT_TRUE(listed(d.skipped, dir / "caseB" / "dangling"));
}

TEST(CaseDiscovery, InputThatIsNotAFolderIsAnError) {
  EXPECT_THROW(discoverCases(test::sharedData("ct-head-ge-tilt/01.dcm")), Error);
}

}  // namespace
}  // namespace ctd
