#include "batch/CaseState.h"

#include <cstdio>
#include <fstream>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/AtomicFile.h"
#include "core/Error.h"
#include "pipeline/Version.h"
#include "volume/SliceThreads.h"

namespace fs = std::filesystem;

namespace ctd::batch {

std::string encodeCaseName(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  // "." and ".." would name folders, and an empty label a hidden file.
  if (out.empty() || out == "." || out == "..") out = "%" + out;
  return out;
}

namespace {

// Hashing reads every byte once more (from the page cache): spread the files
// over the case's threads so it costs wall time only where cores are idle.
std::vector<FileStamp> stampAll(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<FileStamp> out(files.size());
  std::mutex m;
  std::exception_ptr error;
  forEachSlice(files.size(), std::size_t{1} << 20, [&](std::size_t i) {
    try {
      out[i] = stampFile(files[i].first, files[i].second, true);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m);
      if (!error) error = std::current_exception();
    }
  });
  if (error) std::rethrow_exception(error);
  return out;
}

}  // namespace

std::vector<FileStamp> stampInputs(const CaseInput& c) {
  std::vector<std::pair<fs::path, std::string>> files;
  for (const auto& f : c.files) files.emplace_back(f, f.lexically_relative(c.root).string());
  return stampAll(files);
}

CaseStateStore::CaseStateStore(const fs::path& out_root, const fs::path& nifti_root)
    : out_root_(out_root), nifti_root_(nifti_root), dir_(out_root / ".ctdeface-state") {}

fs::path CaseStateStore::fileFor(const std::string& case_name) const {
  return dir_ / (encodeCaseName(case_name) + ".json");
}

std::optional<CaseState> CaseStateStore::load(const std::string& case_name) const {
  std::ifstream in(fileFor(case_name));
  if (!in) return std::nullopt;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    CaseState s;
    s.case_name = j.at("case").get<std::string>();
    s.tool_version = j.at("version").get<std::string>();
    s.options = j.at("options").dump();
    for (const auto& f : j.at("inputs")) s.inputs.push_back(fileStampFromJson(f));
    for (const auto& o : j.at("outputs")) s.outputs.push_back({o.value("root", "out"), fileStampFromJson(o)});
    s.report = caseReportFromJson(j.at("report"));
    if (s.case_name != case_name) return std::nullopt;
    return s;
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: the case is simply redone
  }
}

void CaseStateStore::save(const CaseState& s) const {
  nlohmann::ordered_json j;
  j["case"] = s.case_name;
  j["version"] = s.tool_version;
  j["options"] = nlohmann::ordered_json::parse(s.options);
  j["result"] = toString(s.report.result());
  j["inputs"] = nlohmann::ordered_json::array();
  for (const auto& f : s.inputs) j["inputs"].push_back(nlohmann::ordered_json(toJson(f)));
  j["outputs"] = nlohmann::ordered_json::array();
  for (const auto& o : s.outputs) {
    const nlohmann::json stamp = toJson(o.file);
    nlohmann::ordered_json e;
    e["root"] = o.root;
    for (const char* k : {"path", "size", "mtime_ns", "sha1"}) e[k] = stamp.at(k);
    j["outputs"].push_back(e);
  }
  CaseReport rows = s.report;
  rows.outputs.clear();  // listed above, relative
  j["report"] = toJson(rows);
  writeFileAtomically(fileFor(s.case_name), j.dump(1) + "\n");
}

void CaseStateStore::removeTemporaries(const std::string& case_name) const {
  // writeFileAtomically's temporary: "." + name + ".tmp<random>" beside the target.
  const std::string prefix = "." + fileFor(case_name).filename().string() + ".tmp";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) fs::remove(e.path(), ec);
}

std::vector<OutputStamp> CaseStateStore::stampOutputs(const std::vector<fs::path>& outputs) const {
  std::vector<std::string> roots;
  std::vector<std::pair<fs::path, std::string>> files;
  for (const auto& p : outputs) {
    const auto rel_out = p.lexically_relative(out_root_);
    if (!rel_out.empty() && *rel_out.begin() != "..") {
      roots.push_back("out");
      files.emplace_back(p, rel_out.string());
      continue;
    }
    const auto rel_nifti = nifti_root_.empty() ? fs::path() : p.lexically_relative(nifti_root_);
    if (rel_nifti.empty() || *rel_nifti.begin() == "..") throw Error(p, "written outside the output folders");
    roots.push_back("nifti");
    files.emplace_back(p, rel_nifti.string());
  }
  const std::vector<FileStamp> stamps = stampAll(files);
  std::vector<OutputStamp> out;
  for (std::size_t i = 0; i < stamps.size(); ++i) out.push_back({roots[i], stamps[i]});
  return out;
}

fs::path CaseStateStore::absolute(const OutputStamp& o) const {
  return (o.root == "nifti" ? nifti_root_ : out_root_) / o.file.path;
}

std::string CaseStateStore::whyRedo(const CaseState& old, const CaseInput& c, const std::string& options) const {
  if (old.tool_version != kVersion) return "made by ctdeface " + old.tool_version;
  if (nlohmann::json::parse(old.options) != nlohmann::json::parse(options)) return "options changed";
  const SeriesStatus r = old.report.result();
  if (r == SeriesStatus::Failed || r == SeriesStatus::Partial) return std::string("last result ") + toString(r);
  std::map<std::string, const FileStamp*> before;
  for (const auto& f : old.inputs) before[f.path] = &f;
  if (before.size() != c.files.size()) return "input files added or removed";
  for (const auto& f : c.files) {
    const std::string rel = f.lexically_relative(c.root).string();
    const auto it = before.find(rel);
    if (it == before.end()) return "new input file " + rel;
    FileStamp now;
    try {
      now = stampFile(f, rel, false);
    } catch (const std::exception&) {
      return "input file unreadable: " + rel;
    }
    if (now.size != it->second->size) return "input file changed: " + rel;
    // A touched but identical file is still the same input.
    if (now.mtime_ns != it->second->mtime_ns && sha1OfFile(f) != it->second->sha1) return "input file changed: " + rel;
  }
  for (const auto& o : old.outputs) {
    FileStamp now;
    try {
      now = stampFile(absolute(o), o.file.path, false);
    } catch (const std::exception&) {
      return "output missing: " + o.file.path;
    }
    if (now.size != o.file.size || now.mtime_ns != o.file.mtime_ns) return "output changed: " + o.file.path;
  }
  return "";
}

}  // namespace ctd::batch
