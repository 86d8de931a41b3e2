// Odd input and output trees: a folder with only a DICOMDIR, symbolic link
// loops, file names with spaces, Unicode and newlines, -o inside -i, and an
// output folder already holding another tool's files.
#include "BadInputFixture.h"
#include "DicomEdits.h"
#include "support/TreeSnapshot.h"

namespace ctd::test {
namespace {

TEST_F(BadInput, FolderHoldingOnlyADicomdir) {
  fs::copy_file(fs::path(CTD_SHARED_DATA) / "ct-phantom-philips-multiseries" / "DICOMDIR", bad_ / "DICOMDIR");
  expectReported(runBatch(), "DICOMDIR", {"DICOMDIR"});
}

TEST_F(BadInput, SymbolicLinkLoopsAreNotFollowed) {
  writeHeadSeries(bad_);
  fs::create_directory_symlink("..", bad_ / "up");         // back to the root
  fs::create_directory_symlink("../bad", bad_ / "again");  // back to itself
  // The series itself is fine: it is defaced once, never twice through a link.
  may_write_ = [](const fs::path& rel) {
    return rel.string().rfind("bad/IM", 0) == 0 && rel.parent_path() == "bad";
  };
  const BatchRun run = runBatch({}, {.timeout_seconds = 60});
  expectReported(run, "up", {"loop"});
  expectReported(run, "again", {"loop"});
  bool defaced = false;
  for (const auto& s : run.report["series"])
    if (s.value("description", "") == "bad phantom") defaced = s.value("status", "") == "defaced";
  EXPECT_TRUE(defaced);
}

TEST_F(BadInput, FileNamesWithSpacesUnicodeAndNewlines) {
  const auto files = writeHeadSeries(bad_);
  const std::vector<std::string> names = {"slice one.dcm", "schädel €.dcm", "line\nbreak.dcm", "tab\there.dcm"};
  for (std::size_t i = 0; i < names.size(); ++i) fs::rename(files[i], bad_ / names[i]);
  // Beside the series a broken slice would fail it: put the broken file apart.
  fs::create_directories(bad_ / "notes");
  writeFileBytes(bad_ / "notes" / "broken\nname.dcm", "not dicom at all");
  may_write_ = [](const fs::path& rel) { return rel.string().rfind("bad/", 0) == 0 && rel.string().find("broken") == std::string::npos; };
  const BatchRun run = runBatch();
  for (const auto& n : names) EXPECT_TRUE(fs::is_regular_file(out_ / "bad" / n)) << n;
  expectReported(run, "broken\nname.dcm", {"not a DICOM"});
}

TEST_F(BadInput, OutputInsideInputIsRefusedBeforeWriting) {
  const auto before = snapshotTree(root_);
  const ChildResult r = runChild({CTD_CLI, "-i", root_.string(), "-o", (root_ / "good" / "out").string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe() << r.output;
  EXPECT_NE(r.output.find("inside the input"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "not one line: " << r.output;
  EXPECT_FALSE(fs::exists(root_ / "good" / "out"));
  EXPECT_EQ(before, snapshotTree(root_));
}

TEST_F(BadInput, NonEmptyOutputOfAnotherToolIsRefused) {
  fs::create_directories(out_ / "good");
  writeFileBytes(out_ / "results.csv", "id,score\n1,0.5\n");
  // Another tool's file at a path ctdeface would write: it must survive.
  fs::copy_file(root_ / "good" / "IM0001.dcm", out_ / "good" / "IM0001.dcm");
  editDicom(out_ / "good" / "IM0001.dcm", [](gdcm::File& f) {
    setValue(f.GetDataSet(), gdcm::Tag(0x0008, 0x103E), gdcm::VR::LO, "someone else's");
  });
  const auto in_before = snapshotTree(root_);
  const auto out_before = snapshotTree(out_);
  const ChildResult r = runChild({CTD_CLI, "-i", root_.string(), "-o", out_.string()});
  EXPECT_EQ(r.exit_code, 2) << r.describe() << r.output;
  EXPECT_NE(r.output.find(out_.string()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not empty"), std::string::npos) << r.output;
  EXPECT_EQ(out_before, snapshotTree(out_)) << "another tool's files were touched";
  EXPECT_EQ(in_before, snapshotTree(root_));
}

TEST_F(BadInput, OwnEarlierOutputIsNotAnotherTool) {
  runBatch();
  // A second run into the same OUT (resuming: both cases are done) is not refused.
  expect_good_ = false;
  const BatchRun again = runBatch();
  EXPECT_EQ(again.child.exit_code, 0) << again.child.output;
  EXPECT_EQ(again.child.output.find("not empty"), std::string::npos) << again.child.output;
  EXPECT_TRUE(fs::is_regular_file(out_ / "good" / "IM0001.dcm"));
}

}  // namespace
}  // namespace ctd::test
