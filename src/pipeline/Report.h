#pragma once
// The run report: one row per CT series (and one per file not written), saved as
// OUT/ctdeface-report.json and OUT/ctdeface-report.csv.
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace ctd {

enum class SeriesStatus { Defaced, Partial, NoFaceInView, Failed, Skipped };
const char* toString(SeriesStatus s);

struct FaceCheck {
  bool checked = false;  // false: QC off (--no-qc) or the series failed before it
  bool detected = false;
  double score = 0;  // the detector's score of its best box (see src/qc/FaceDetector.h)
  std::string view;  // render view of that box ("" when nothing was found)
  std::string describe() const;  // "face (front, score 23)" / "no face (best 4)" / "not checked"
};

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
  // What the output holds: equals `status`, except for rows carried over from an
  // earlier run (status Skipped), where it is that run's status.
  SeriesStatus result = SeriesStatus::Failed;
  std::string error;                  // one line
  std::vector<std::string> warnings;  // geometry, transcoding, not covered slices
  std::vector<std::string> transfer_syntax_notes;
  // Quality control (src/qc): the face detector on skin renders before and after
  // defacing, its time, and the gallery's pictures (relative to OUT/qc).
  FaceCheck face_before, face_after;
  double render_seconds = 0, detect_seconds = 0;
  std::string qc_before_png, qc_after_png, qc_slices_png;
};

struct FileRow {
  std::string case_name;
  std::filesystem::path path;  // relative to the input root
  std::string reason;          // why not written / "copied unchanged"
  bool copied = false;
};

// One case's part of the report, and the files it wrote.
struct CaseReport {
  std::string name;  // the case label (folder name; the input folder's name for a single case)
  std::vector<SeriesRow> series;
  std::vector<FileRow> other_files;
  std::vector<std::string> errors;  // case-level failures: one line each
  std::vector<std::filesystem::path> outputs;  // every file written at a final path (DICOM, NIfTI, copies)
  double seconds = 0;
  bool skipped = false;  // carried over from an earlier run

  // failed if any case error or failed series, else partial, else defaced, else
  // no-face-in-view; a case without any CT series is failed ("no CT series").
  SeriesStatus result() const;
  SeriesStatus status() const { return skipped ? SeriesStatus::Skipped : result(); }
  std::string error() const;  // the case errors, or the first failed series' error, in one line
};

struct CaseSummary {
  std::string name;
  SeriesStatus status = SeriesStatus::Failed, result = SeriesStatus::Failed;
  std::size_t series = 0;
  double seconds = 0;
  std::string error;
};

struct RunReport {
  std::string tool_version;
  std::filesystem::path input, output;
  std::vector<CaseSummary> cases;
  std::vector<SeriesRow> series;
  std::vector<FileRow> other_files;
  std::vector<std::string> case_errors;  // case-level failures (discovery, unreadable folders)

  // Appends one case's rows (in the order cases are added).
  void add(const CaseReport& c);
  // 0 = every series defaced or no face in view; 1 = any failed or partial.
  int exitCode() const;
  // Atomic writes of ctdeface-report.json / .csv into `dir`; `stem` names them.
  void save(const std::filesystem::path& dir, const std::string& stem = "ctdeface-report") const;
  nlohmann::ordered_json toJson() const;
  static RunReport fromJson(const nlohmann::json& j);
};

// JSON of one row (the report's "series" entries and the resumable state records);
// a field added to SeriesRow goes into both functions.
nlohmann::ordered_json toJson(const SeriesRow& r);
SeriesRow seriesRowFromJson(const nlohmann::json& j);
nlohmann::ordered_json toJson(const CaseReport& c);
CaseReport caseReportFromJson(const nlohmann::json& j);
SeriesStatus seriesStatusFromString(const std::string& s);

}  // namespace ctd
