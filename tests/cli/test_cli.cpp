// End-to-end tests of the `ctdeface` command on real CT (the bundled sample and
// ../shared/data), run as a real process.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"

namespace fs = std::filesystem;
using ctd::test::quoted;
using ctd::test::runCommand;

namespace {

const fs::path kShared = CTD_SHARED_DATA;
const std::string kCli = CTD_CLI;

fs::path freshDir(const std::string& name) {
  const fs::path d = fs::path(CTD_BINARY_DIR) / "test-cli" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

nlohmann::json readReport(const fs::path& out) {
  std::ifstream in(out / "ctdeface-report.json");
  EXPECT_TRUE(in.good()) << "no report in " << out;
  return nlohmann::json::parse(in);
}

// The bundled sample, unpacked once per test process.
fs::path bundledSample() {
  static const fs::path dir = [] {
    // Per process: ctest runs the tests of this file in parallel processes.
    const fs::path d = freshDir("sample-in-" + std::to_string(::getpid()));
    const auto r = runCommand("tar -xJf " + quoted(std::string(CTD_SOURCE_DIR) + "/data/sample/ct-head-ge-tilt.tar.xz") +
                              " -C " + quoted(d.string()));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return d / "ct-head-ge-tilt";
  }();
  return dir;
}

// dciodvfy "Error" lines, without the file-specific prefix, as a set.
std::set<std::string> dciodvfyErrors(const fs::path& file) {
  const auto r = runCommand("dciodvfy " + quoted(file.string()));
  std::set<std::string> errors;
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("Error", 0) == 0) errors.insert(l);
  return errors;
}

}  // namespace

TEST(Cli, NoArgumentsIsUsageError) {
  EXPECT_EQ(runCommand(quoted(kCli)).exit_code, 2);
}

TEST(Cli, UnknownFlagIsUsageError) {
  EXPECT_EQ(runCommand(quoted(kCli) + " --no-such-flag").exit_code, 2);
}

TEST(Cli, MissingInputIsUsageErrorNamingIt) {
  const fs::path out = freshDir("missing-input");
  const auto r = runCommand(quoted(kCli) + " -i /nonexistent/ctdeface-in -o " + quoted((out / "o").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("/nonexistent/ctdeface-in"), std::string::npos) << r.output;
}

TEST(Cli, OutputInsideInputIsRefused) {
  const fs::path in = bundledSample();
  const auto before = ctd::test::snapshotTree(in);
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((in / "out").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(in / "out"));
  EXPECT_EQ(before, ctd::test::snapshotTree(in));
}

TEST(Cli, QcFolderInsideInputIsRefused) {
  const fs::path in = bundledSample();
  const fs::path out = freshDir("qc-inside-input");
  const auto before = ctd::test::snapshotTree(in);
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((out / "o").string()) +
                            " --qc-out " + quoted((in / "qc").string()));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("QC folder is inside the input folder"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(in / "qc"));
  EXPECT_EQ(before, ctd::test::snapshotTree(in));
}

TEST(Cli, UnavailableModelIsUsageError) {
  const fs::path out = freshDir("bad-model");
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(bundledSample().string()) + " -o " +
                            quoted((out / "o").string()) + " --model /nonexistent/model");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(out / "o" / "01.dcm"));
}

TEST(Cli, BundledSampleIsDefacedIntoValidDicom) {
  const fs::path in = bundledSample();
  const fs::path out = freshDir("sample-out");
  const fs::path nii = freshDir("sample-nifti");
  const auto before = ctd::test::snapshotTree(in);
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((out / "o").string()) +
                            " --nifti-root-out " + quoted(nii.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(before, ctd::test::snapshotTree(in)) << "input modified";

  const auto report = readReport(out / "o");
  ASSERT_EQ(report["series"].size(), 1u);
  const auto& s = report["series"][0];
  EXPECT_EQ(s["status"], "defaced");
  EXPECT_EQ(s["files_in"], 28);
  EXPECT_EQ(s["files_out"], 28);
  EXPECT_GT(s["voxels_removed"].get<long>(), 10000);

  // Same file names at the same relative paths, some pixels changed, valid DICOM.
  std::size_t changed_files = 0;
  for (const auto& [rel, stamp] : before) {
    if (rel.size() < 4 || rel.substr(rel.size() - 4) != ".dcm") continue;
    const fs::path o = out / "o" / rel;
    ASSERT_TRUE(fs::exists(o)) << rel;
    const std::string bytes = ctd::test::readBytes(o);
    if (ctd::test::fnv1a(bytes) != stamp.hash) ++changed_files;
    const auto in_errors = dciodvfyErrors(in / rel);
    for (const auto& e : dciodvfyErrors(o)) EXPECT_TRUE(in_errors.count(e)) << rel << ": new dciodvfy error: " << e;
  }
  EXPECT_GT(changed_files, 0u);

  // NIfTI copies: image and mask per series under <case>/.
  std::size_t nifti_files = 0;
  for (const auto& e : fs::recursive_directory_iterator(nii)) nifti_files += e.path().string().ends_with(".nii.gz");
  EXPECT_EQ(nifti_files, 2u);
}

TEST(Cli, PhilipsStudySelectsOneSeriesAndWritesNothingElse) {
  const fs::path in = kShared / "ct-phantom-philips-multiseries";
  const fs::path out = freshDir("philips-out");
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((out / "o").string()));
  // A skull phantom with no soft tissue: no face in view is a success.
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = readReport(out / "o");
  ASSERT_EQ(report["series"].size(), 1u);
  EXPECT_EQ(report["series"][0]["files_out"], 28);
  EXPECT_EQ(report["series"][0]["status"], "no-face-in-view");
  // Localizer, secondary captures and directory records are listed, not written.
  std::size_t listed = 0;
  for (const auto& f : report["other_files"]) {
    ++listed;
    EXPECT_FALSE(f["copied"].get<bool>());
    EXPECT_FALSE(fs::exists(out / "o" / f["path"].get<std::string>())) << f["path"];
  }
  EXPECT_GE(listed, 7u);
  EXPECT_FALSE(fs::exists(out / "o" / "S21570" / "S1000"));
  // An empty mask on uncompressed files reproduces them byte for byte.
  for (const auto& e : fs::directory_iterator(in / "S21570" / "S2010")) {
    if (e.path().filename() == "DIRFILE") continue;  // a directory record, set aside
    const fs::path o = out / "o" / "S21570" / "S2010" / e.path().filename();
    ASSERT_TRUE(fs::exists(o)) << o;
    EXPECT_EQ(ctd::test::readBytes(o), ctd::test::readBytes(e.path())) << o;
  }
}

TEST(Cli, CopyOtherCopiesSetAsideFilesUnchanged) {
  const fs::path in = kShared / "ct-phantom-philips-multiseries";
  const fs::path out = freshDir("philips-copy-other");
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((out / "o").string()) +
                            " --copy-other");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = readReport(out / "o");
  std::size_t copied = 0;
  for (const auto& f : report["other_files"]) {
    if (!f["copied"].get<bool>()) continue;
    ++copied;
    const std::string rel = f["path"];
    EXPECT_EQ(ctd::test::readBytes(out / "o" / rel), ctd::test::readBytes(in / rel)) << rel;
  }
  EXPECT_GE(copied, 7u);
}

TEST(Cli, RootOfCasesIsMirrored) {
  const fs::path root = freshDir("root-in");
  fs::create_directories(root / "caseA");
  fs::create_directories(root / "caseB");
  for (const auto& e : fs::directory_iterator(bundledSample())) fs::copy_file(e.path(), root / "caseA" / e.path().filename());
  fs::copy(kShared / "ct-phantom-philips-multiseries", root / "caseB", fs::copy_options::recursive);
  const fs::path out = freshDir("root-out");
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(root.string()) + " -o " + quoted((out / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "o" / "caseA" / "01.dcm"));
  EXPECT_TRUE(fs::exists(out / "o" / "caseB" / "S21570" / "S2010"));
  const auto report = readReport(out / "o");
  EXPECT_EQ(report["series"].size(), 2u);
}

TEST(Cli, DefaceNiftiOnTorsoFindsNoFace) {
  const fs::path out = freshDir("torso");
  const auto r = runCommand(quoted(kCli) + " deface-nifti -i " +
                            quoted((kShared / "ct-no-head" / "totalseg_example_ct_abdomen.nii.gz").string()) + " -o " +
                            quoted(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out / "totalseg_example_ct_abdomen.nii.gz"));
  EXPECT_TRUE(fs::exists(out / "totalseg_example_ct_abdomen_mask.nii.gz"));
  EXPECT_NE(r.output.find("no face in view"), std::string::npos) << r.output;
}

TEST(Cli, LyingRescaleHeaderIsNoticedAndTheFaceStillRemoved) {
  // VTK's head: intercept 0 but values are HU + 1024 (air ~ 0). Taking the header
  // at its word would find no air, hence "no face in view", and leak the face.
  const fs::path in = kShared / "ct-head-fullface-slicer" / "dicom";
  const fs::path out = freshDir("slicer-out");
  const auto r = runCommand(quoted(kCli) + " -i " + quoted(in.string()) + " -o " + quoted((out / "o").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("HU + 1024"), std::string::npos) << r.output;
  const auto report = readReport(out / "o");
  ASSERT_EQ(report["series"].size(), 1u);
  EXPECT_EQ(report["series"][0]["status"], "defaced");
  EXPECT_GT(report["series"][0]["voxels_removed"].get<long>(), 5000);
}
