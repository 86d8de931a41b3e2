#pragma once
// Test support for the batch: roots of small phantom cases, broken cases, the
// CLI as a real process (also killed), and output trees compared byte for byte.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ctd::test {

// A fresh, empty folder under the build tree, unique to this process.
std::filesystem::path freshBatchDir(const std::string& name);

// A 16 x 16 x 11 crop of a phantom head (2 mm pixels, 20 mm steps): cheap,
// no face in view. Returns the series folder (dir/dicom).
std::filesystem::path writeSmallCase(const std::filesystem::path& dir, unsigned seed,
                                     const std::string& transfer_syntax = "1.2.840.10008.1.2.1");
// A 48 x 48 x 26 full head (5 mm pixels, 8 mm steps): a face to remove.
std::filesystem::path writeFaceCase(const std::filesystem::path& dir, unsigned seed);

// Broken files inside a case's series folder; each returns the file's name.
std::string truncateSlice(const std::filesystem::path& series_dir);            // a slice cut to 70 %
std::string addGarbageDcm(const std::filesystem::path& series_dir);            // random bytes named .dcm
std::string shortenPixelData(const std::filesystem::path& series_dir);         // PixelData length header and value 64 bytes short
std::string corruptCompressedFrame(const std::filesystem::path& series_dir);   // bytes of an encapsulated frame overwritten
std::string replaceWithBrokenLink(const std::filesystem::path& series_dir);    // a slice replaced by a dangling symlink

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;
};
// Runs `ctdeface args` (shell words), with extra environment assignments.
RunResult runCtdeface(const std::string& args, const std::string& env = "");
// Starts it in the background (stdout/stderr to `log`); returns the pid.
pid_t spawnCtdeface(const std::vector<std::string>& args, const std::filesystem::path& log,
                    const std::vector<std::string>& env = {});
int waitFor(pid_t pid);  // exit code, -1 when killed by a signal

// Every file a user would take as output: relative path -> bytes, without the
// state records, the work root, staging folders, temporaries and the reports.
std::map<std::string, std::string> outputFiles(const std::filesystem::path& out);
// The report without what differs between equal runs: timings ("*seconds"),
// "status" (a resumed case says skipped; "result" still says what the output holds)
// and the output folder's own path.
nlohmann::json stableReport(const std::filesystem::path& out, const std::string& stem = "ctdeface-report");
nlohmann::json stableJson(nlohmann::json report);
nlohmann::json readJson(const std::filesystem::path& file);

}  // namespace ctd::test
