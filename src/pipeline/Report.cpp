#include "pipeline/Report.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/AtomicFile.h"

namespace ctd {

const char* toString(SeriesStatus s) {
  switch (s) {
    case SeriesStatus::Defaced: return "defaced";
    case SeriesStatus::Partial: return "partial";
    case SeriesStatus::NoFaceInView: return "no-face-in-view";
    case SeriesStatus::Failed: return "failed";
    case SeriesStatus::Skipped: return "skipped";
  }
  return "failed";
}

int RunReport::exitCode() const {
  if (!case_errors.empty()) return 1;
  for (const auto& r : series)
    if (r.status == SeriesStatus::Failed || r.status == SeriesStatus::Partial) return 1;
  return 0;
}

namespace {

std::string csvField(const std::string& s) {
  // RFC 4180: quote every field that could break a row; double embedded quotes.
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

void RunReport::save(const std::filesystem::path& dir) const {
  nlohmann::ordered_json j;
  j["tool"] = "ctdeface";
  j["version"] = tool_version;
  j["input"] = input.string();
  j["output"] = output.string();
  j["exit_code"] = exitCode();
  j["series"] = nlohmann::json::array();
  for (const auto& r : series) {
    nlohmann::ordered_json s;
    s["case"] = r.case_name;
    s["series_uid"] = r.series_uid;
    s["series"] = r.series_name;
    s["description"] = r.description;
    s["files_in"] = r.files_in;
    s["files_out"] = r.files_out;
    s["voxels_removed"] = r.voxels_removed;
    s["fill_hu"] = r.fill_hu;
    s["model"] = r.model;
    s["seconds"] = r.seconds;
    s["segment_seconds"] = r.segment_seconds;
    s["status"] = toString(r.status);
    s["error"] = r.error;
    s["warnings"] = r.warnings;
    s["transfer_syntax"] = r.transfer_syntax_notes;
    j["series"].push_back(s);
  }
  j["other_files"] = nlohmann::json::array();
  for (const auto& f : other_files)
    j["other_files"].push_back({{"case", f.case_name}, {"path", f.path.string()}, {"reason", f.reason}, {"copied", f.copied}});
  j["case_errors"] = case_errors;
  writeFileAtomically(dir / "ctdeface-report.json", j.dump(2) + "\n");

  std::ostringstream csv;
  csv << "case,series_uid,series,description,files_in,files_out,voxels_removed,fill_hu,model,seconds,status,error,warnings\n";
  for (const auto& r : series) {
    csv << csvField(r.case_name) << ',' << csvField(r.series_uid) << ',' << csvField(r.series_name) << ','
        << csvField(r.description) << ',' << r.files_in << ',' << r.files_out << ',' << r.voxels_removed << ','
        << r.fill_hu << ',' << csvField(r.model) << ',' << r.seconds << ',' << toString(r.status) << ','
        << csvField(r.error) << ',' << csvField(joined(r.warnings)) << '\n';
  }
  writeFileAtomically(dir / "ctdeface-report.csv", csv.str());
}

}  // namespace ctd
