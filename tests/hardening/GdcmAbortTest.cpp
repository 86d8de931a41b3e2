// A header on which GDCM itself aborts (its assertions are on in Debian's
// build, and fuzzing keeps finding new ways to trip one past the pre-checks):
// the header pass runs in a child process, so the abort fails that one file,
// named in one line, and its series; the good case beside it is still
// defaced. The abort is GDCM's own std::abort, asked for on one file through
// CTDEFACE_TEST_ABORT_IN_HEADER (tests/dicom/IsolatedFilePassTest has the
// runner's real signals).
#include <cstdlib>

#include "BadInputFixture.h"

namespace ctd::test {
namespace {

struct AbortInHeader {
  explicit AbortInHeader(const std::string& name) { ::setenv("CTDEFACE_TEST_ABORT_IN_HEADER", name.c_str(), 1); }
  ~AbortInHeader() { ::unsetenv("CTDEFACE_TEST_ABORT_IN_HEADER"); }
};

TEST_F(BadInput, GdcmAbortInOneHeaderFailsThatFileAndItsSeriesOnly) {
  const auto files = writeHeadSeries(bad_);
  // A name of its own: the good case has files of the same names.
  const std::string victim = "slice-gdcm-aborts-on.dcm";
  fs::rename(files[5], bad_ / victim);
  AbortInHeader hook(victim);
  const BatchRun run = runBatch();
  const std::string line = expectReported(run, victim, {"crashed on this file", "signal 6"});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(run.child.output.find(victim), std::string::npos) << run.child.output;
}

}  // namespace
}  // namespace ctd::test
