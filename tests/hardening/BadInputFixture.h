#pragma once
// The frame of every bad-input case: a root of cases holding a good head
// phantom (`good/`) beside the bad input (`bad/`), run through the real
// `ctdeface` binary as a process. runBatch() asserts what must hold whatever the
// bad input is: the process ends by itself (no crash, abort, sanitizer report or
// hang), the input tree is unchanged byte for byte, the good case is defaced
// and written, and nothing of the bad case reaches OUT (no file, no staging
// leftover). expectReported() asserts the clear one-line error naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ChildProcess.h"

namespace ctd::test {

namespace fs = std::filesystem;

struct BatchRun {
  ChildResult child;
  nlohmann::json report;
};

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override;

  // A small head phantom series written into `dir` in transfer syntax `ts`
  // (its own study, so a root holding it and good/ is two cases). Returns the
  // files in slice order.
  std::vector<fs::path> writeHeadSeries(const fs::path& dir, const std::string& ts = "1.2.840.10008.1.2.1",
                                        unsigned seed = 2);

  // Runs `ctdeface -i in -o out extra...` and checks the invariants above.
  // `in` defaults to root_, `out` to out_.
  BatchRun runBatch(const std::vector<std::string>& extra = {}, const ChildLimits& limits = {});

  // The report has a line for the file or series `name` (a file name, or a
  // path relative to the input root) whose one-line reason contains each of
  // `parts` (case-insensitive). Returns that line.
  std::string expectReported(const BatchRun& run, const std::string& name, const std::vector<std::string>& parts);

  fs::path scratch_;  // this test's own folder
  fs::path root_;     // the input root of cases
  fs::path bad_;      // root_/bad: the bad case
  fs::path out_;      // the output folder (not created)
  fs::path in_;       // the -i folder (root_ unless a test changes it)
  bool expect_good_ = true;  // false: the bad input stops the whole run by design
  // Paths (relative to OUT) of the bad case that may be written: by default
  // none; a test whose bad case is partly valid allows those files.
  std::function<bool(const fs::path&)> may_write_ = [](const fs::path&) { return false; };
};

}  // namespace ctd::test
