#pragma once
// The run report: one row per CT series (and one per file not written), saved as
// OUT/ctdeface-report.json and OUT/ctdeface-report.csv.
#include <filesystem>
#include <string>
#include <vector>

namespace ctd {

enum class SeriesStatus { Defaced, Partial, NoFaceInView, Failed, Skipped };
const char* toString(SeriesStatus s);

struct SeriesRow {
  std::string case_name;
  std::string series_uid;
  std::string series_name;   // SeriesStack::name
  std::string description;
  std::size_t files_in = 0, files_out = 0;
  std::size_t voxels_removed = 0;
  double fill_hu = 0;
  std::string model;
  double seconds = 0;          // whole series, read to write
  double segment_seconds = 0;  // the segmenter alone
  SeriesStatus status = SeriesStatus::Failed;
  std::string error;                  // one line
  std::vector<std::string> warnings;  // geometry, transcoding, not covered slices
  std::vector<std::string> transfer_syntax_notes;
};

struct FileRow {
  std::string case_name;
  std::filesystem::path path;  // relative to the input root
  std::string reason;          // why not written / "copied unchanged"
  bool copied = false;
};

struct RunReport {
  std::string tool_version;
  std::filesystem::path input, output;
  std::vector<SeriesRow> series;
  std::vector<FileRow> other_files;
  std::vector<std::string> case_errors;  // case-level failures (discovery, unreadable folders)

  // 0 = every series defaced or no face in view; 1 = any failed or partial.
  int exitCode() const;
  // Atomic writes of ctdeface-report.json / .csv into `dir`.
  void save(const std::filesystem::path& dir) const;
};

}  // namespace ctd
