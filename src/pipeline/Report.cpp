#include "pipeline/Report.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/AtomicFile.h"
#include "core/TestKillPoint.h"

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

SeriesStatus seriesStatusFromString(const std::string& s) {
  for (auto v : {SeriesStatus::Defaced, SeriesStatus::Partial, SeriesStatus::NoFaceInView, SeriesStatus::Failed,
                 SeriesStatus::Skipped})
    if (s == toString(v)) return v;
  return SeriesStatus::Failed;  // an unknown word in a state file must never read as success
}

namespace {

bool isFailure(SeriesStatus s) { return s == SeriesStatus::Failed || s == SeriesStatus::Partial; }

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

SeriesStatus CaseReport::result() const {
  if (!errors.empty() || series.empty()) return SeriesStatus::Failed;
  bool partial = false, defaced = false;
  for (const auto& r : series) {
    if (r.result == SeriesStatus::Failed) return SeriesStatus::Failed;
    partial |= r.result == SeriesStatus::Partial;
    defaced |= r.result == SeriesStatus::Defaced;
  }
  return partial ? SeriesStatus::Partial : defaced ? SeriesStatus::Defaced : SeriesStatus::NoFaceInView;
}

std::string CaseReport::error() const {
  if (!errors.empty()) return joined(errors);
  if (series.empty()) return "no CT image series in this case";
  for (const auto& r : series)
    if (r.result == SeriesStatus::Failed) return r.series_name + ": " + r.error;
  return "";
}

void RunReport::add(const CaseReport& c) {
  cases.push_back({c.name, c.status(), c.result(), c.series.size(), c.seconds, c.error()});
  series.insert(series.end(), c.series.begin(), c.series.end());
  other_files.insert(other_files.end(), c.other_files.begin(), c.other_files.end());
  for (const auto& e : c.errors) case_errors.push_back(c.name + ": " + e);
}

int RunReport::exitCode() const {
  if (!case_errors.empty()) return 1;
  for (const auto& c : cases)
    if (isFailure(c.result)) return 1;
  for (const auto& r : series)
    if (isFailure(r.status) || isFailure(r.result)) return 1;
  return 0;
}

std::string FaceCheck::describe() const {
  std::ostringstream o;
  if (!checked) return "not checked";
  if (detected) o << "face (" << view << ", score " << score << ")";
  else o << "no face (best " << score << (view.empty() ? "" : " " + view) << ")";
  return o.str();
}

namespace {
nlohmann::ordered_json faceJson(const FaceCheck& f) {
  return {{"checked", f.checked}, {"detected", f.detected}, {"score", f.score}, {"view", f.view}};
}
FaceCheck faceFromJson(const nlohmann::json& j) {
  return {j.value("checked", false), j.value("detected", false), j.value("score", 0.0), j.value("view", "")};
}
// CSV columns face_before, face_before_score, face_before_view, then the same after.
std::string faceCsv(const SeriesRow& r) {
  std::ostringstream o;
  for (const FaceCheck* f : {&r.face_before, &r.face_after}) {
    if (!f->checked) o << ",,,";
    else o << ',' << (f->detected ? "detected" : "none") << ',' << f->score << ',' << f->view;
  }
  return o.str();
}
}  // namespace

nlohmann::ordered_json toJson(const SeriesRow& r) {
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
  s["result"] = toString(r.result);
  s["error"] = r.error;
  s["warnings"] = r.warnings;
  s["transfer_syntax"] = r.transfer_syntax_notes;
  if (r.face_before.checked || r.face_after.checked) {
    s["face_before"] = faceJson(r.face_before);
    s["face_after"] = faceJson(r.face_after);
    s["render_seconds"] = r.render_seconds;
    s["detect_seconds"] = r.detect_seconds;
    s["qc_images"] = {r.qc_before_png, r.qc_after_png, r.qc_slices_png};
  }
  return s;
}

SeriesRow seriesRowFromJson(const nlohmann::json& j) {
  SeriesRow r;
  r.case_name = j.value("case", "");
  r.series_uid = j.value("series_uid", "");
  r.series_name = j.value("series", "");
  r.description = j.value("description", "");
  r.files_in = j.value("files_in", std::size_t{0});
  r.files_out = j.value("files_out", std::size_t{0});
  r.voxels_removed = j.value("voxels_removed", std::size_t{0});
  r.fill_hu = j.value("fill_hu", 0.0);
  r.model = j.value("model", "");
  r.seconds = j.value("seconds", 0.0);
  r.segment_seconds = j.value("segment_seconds", 0.0);
  r.status = seriesStatusFromString(j.value("status", "failed"));
  r.result = seriesStatusFromString(j.value("result", j.value("status", "failed")));
  r.error = j.value("error", "");
  r.warnings = j.value("warnings", std::vector<std::string>{});
  r.transfer_syntax_notes = j.value("transfer_syntax", std::vector<std::string>{});
  if (j.contains("face_before")) r.face_before = faceFromJson(j["face_before"]);
  if (j.contains("face_after")) r.face_after = faceFromJson(j["face_after"]);
  r.render_seconds = j.value("render_seconds", 0.0);
  r.detect_seconds = j.value("detect_seconds", 0.0);
  const auto imgs = j.value("qc_images", std::vector<std::string>{});
  if (imgs.size() == 3) r.qc_before_png = imgs[0], r.qc_after_png = imgs[1], r.qc_slices_png = imgs[2];
  return r;
}

namespace {
nlohmann::ordered_json fileRowJson(const FileRow& f) {
  return {{"case", f.case_name}, {"path", f.path.string()}, {"reason", f.reason}, {"copied", f.copied}};
}
FileRow fileRowFromJson(const nlohmann::json& j) {
  return {j.value("case", ""), j.value("path", ""), j.value("reason", ""), j.value("copied", false)};
}
}  // namespace

nlohmann::ordered_json toJson(const CaseReport& c) {
  nlohmann::ordered_json j;
  j["name"] = c.name;
  j["seconds"] = c.seconds;
  j["skipped"] = c.skipped;
  j["errors"] = c.errors;
  j["series"] = nlohmann::ordered_json::array();
  for (const auto& r : c.series) j["series"].push_back(toJson(r));
  j["other_files"] = nlohmann::ordered_json::array();
  for (const auto& f : c.other_files) j["other_files"].push_back(fileRowJson(f));
  j["outputs"] = nlohmann::ordered_json::array();
  for (const auto& p : c.outputs) j["outputs"].push_back(p.string());
  return j;
}

CaseReport caseReportFromJson(const nlohmann::json& j) {
  CaseReport c;
  c.name = j.value("name", "");
  c.seconds = j.value("seconds", 0.0);
  c.skipped = j.value("skipped", false);
  c.errors = j.value("errors", std::vector<std::string>{});
  for (const auto& r : j.value("series", nlohmann::json::array())) c.series.push_back(seriesRowFromJson(r));
  for (const auto& f : j.value("other_files", nlohmann::json::array())) c.other_files.push_back(fileRowFromJson(f));
  for (const auto& p : j.value("outputs", nlohmann::json::array())) c.outputs.emplace_back(p.get<std::string>());
  return c;
}

nlohmann::ordered_json RunReport::toJson() const {
  nlohmann::ordered_json j;
  j["tool"] = "ctdeface";
  j["version"] = tool_version;
  j["input"] = input.string();
  j["output"] = output.string();
  j["exit_code"] = exitCode();
  j["cases"] = nlohmann::ordered_json::array();
  for (const auto& c : cases)
    j["cases"].push_back({{"case", c.name},
                          {"status", toString(c.status)},
                          {"result", toString(c.result)},
                          {"series", c.series},
                          {"seconds", c.seconds},
                          {"error", c.error}});
  j["series"] = nlohmann::ordered_json::array();
  for (const auto& r : series) j["series"].push_back(ctd::toJson(r));
  j["other_files"] = nlohmann::ordered_json::array();
  for (const auto& f : other_files) j["other_files"].push_back(fileRowJson(f));
  j["case_errors"] = case_errors;
  return j;
}

RunReport RunReport::fromJson(const nlohmann::json& j) {
  RunReport r;
  r.tool_version = j.value("version", "");
  r.input = j.value("input", "");
  r.output = j.value("output", "");
  for (const auto& c : j.value("cases", nlohmann::json::array()))
    r.cases.push_back({c.value("case", ""), seriesStatusFromString(c.value("status", "failed")),
                       seriesStatusFromString(c.value("result", "failed")), c.value("series", std::size_t{0}),
                       c.value("seconds", 0.0), c.value("error", "")});
  for (const auto& s : j.value("series", nlohmann::json::array())) r.series.push_back(seriesRowFromJson(s));
  for (const auto& f : j.value("other_files", nlohmann::json::array())) r.other_files.push_back(fileRowFromJson(f));
  r.case_errors = j.value("case_errors", std::vector<std::string>{});
  return r;
}

void RunReport::save(const std::filesystem::path& dir, const std::string& stem) const {
  writeFileAtomically(dir / (stem + ".json"), toJson().dump(2) + "\n");
  testKillPoint("report");

  std::ostringstream csv;
  csv << "case,series_uid,series,description,files_in,files_out,voxels_removed,fill_hu,model,seconds,status,error,"
         "warnings,result,face_before,face_before_score,face_before_view,face_after,face_after_score,face_after_view\n";
  std::size_t row = 0;
  for (const auto& c : cases) {
    if (c.series == 0) {
      // A case without series rows (it failed before any series) still gets its line.
      csv << csvField(c.name) << ",,,,0,0,0,0,,0," << toString(c.status) << ',' << csvField(c.error) << ",,"
          << toString(c.result) << ",,,,,," << '\n';
      continue;
    }
    for (std::size_t n = 0; n < c.series && row < series.size(); ++n, ++row) {
      const SeriesRow& r = series[row];
      csv << csvField(r.case_name) << ',' << csvField(r.series_uid) << ',' << csvField(r.series_name) << ','
          << csvField(r.description) << ',' << r.files_in << ',' << r.files_out << ',' << r.voxels_removed << ','
          << r.fill_hu << ',' << csvField(r.model) << ',' << r.seconds << ',' << toString(r.status) << ','
          << csvField(r.error) << ',' << csvField(joined(r.warnings)) << ',' << toString(r.result) << faceCsv(r) << '\n';
    }
  }
  for (; row < series.size(); ++row) {  // rows added without a case summary
    const SeriesRow& r = series[row];
    csv << csvField(r.case_name) << ',' << csvField(r.series_uid) << ',' << csvField(r.series_name) << ','
        << csvField(r.description) << ',' << r.files_in << ',' << r.files_out << ',' << r.voxels_removed << ','
        << r.fill_hu << ',' << csvField(r.model) << ',' << r.seconds << ',' << toString(r.status) << ','
        << csvField(r.error) << ',' << csvField(joined(r.warnings)) << ',' << toString(r.result) << faceCsv(r) << '\n';
  }
  writeFileAtomically(dir / (stem + ".csv"), csv.str());
}

}  // namespace ctd
