#include "batch/ReportMerge.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/Error.h"

namespace fs = std::filesystem;

namespace ctd::batch {
namespace {

// "ctdeface-report.shard-I-of-N.json" -> (I, N); nullopt for any other name.
std::optional<std::pair<int, int>> shardOfFileName(const std::string& f) {
  const std::string head = "ctdeface-report.shard-", tail = ".json";
  if (f.rfind(head, 0) != 0 || !f.ends_with(tail)) return std::nullopt;
  const std::string mid = f.substr(head.size(), f.size() - head.size() - tail.size());  // "I-of-N"
  const auto of = mid.find("-of-");
  if (of == std::string::npos || of == 0 || of + 4 >= mid.size()) return std::nullopt;
  const std::string a = mid.substr(0, of), b = mid.substr(of + 4);
  const auto digits = [](const std::string& t) { return t.find_first_not_of("0123456789") == std::string::npos; };
  if (!digits(a) || !digits(b) || a.size() > 6 || b.size() > 6) return std::nullopt;
  return std::make_pair(std::stoi(a), std::stoi(b));
}

// shard count -> index -> json file
std::map<int, std::map<int, fs::path>> findParts(const fs::path& out) {
  std::map<int, std::map<int, fs::path>> parts;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec))
    if (const auto s = shardOfFileName(e.path().filename().string())) parts[s->second][s->first] = e.path();
  return parts;
}

RunReport merge(const fs::path& out, int count, const std::map<int, fs::path>& files) {
  RunReport merged;
  // case name -> (rows of that case, summary), so the merged order is the batch's case order (by name).
  struct CaseRows {
    CaseSummary summary;
    std::vector<SeriesRow> series;
  };
  std::map<std::string, CaseRows> cases;
  std::vector<FileRow> global_files;
  for (int i = 1; i <= count; ++i) {
    const auto it = files.find(i);
    if (it == files.end()) {
      merged.case_errors.push_back("shard " + std::to_string(i) + "/" + std::to_string(count) +
                                   ": no report (not run yet, or still running)");
      continue;
    }
    std::ifstream in(it->second);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw Error(it->second, std::string("cannot parse: ") + e.what());
    }
    const RunReport part = RunReport::fromJson(j);
    if (merged.tool_version.empty()) {
      merged.tool_version = part.tool_version;
      merged.input = part.input;
      merged.output = part.output;
    }
    std::size_t row = 0;
    for (const auto& c : part.cases) {
      CaseRows& cr = cases[c.name];
      cr.summary = c;
      for (std::size_t n = 0; n < c.series && row < part.series.size(); ++n) cr.series.push_back(part.series[row++]);
    }
    for (const auto& f : part.other_files) {
      if (f.case_name.empty()) {
        // Files outside any case are listed by every shard: keep one copy.
        const bool seen = std::any_of(global_files.begin(), global_files.end(),
                                      [&](const FileRow& g) { return g.path == f.path && g.reason == f.reason; });
        if (!seen) global_files.push_back(f);
      } else {
        merged.other_files.push_back(f);
      }
    }
    for (const auto& e : part.case_errors) merged.case_errors.push_back(e);
  }
  for (auto& [name, cr] : cases) {
    merged.cases.push_back(cr.summary);
    merged.series.insert(merged.series.end(), cr.series.begin(), cr.series.end());
  }
  std::stable_sort(merged.other_files.begin(), merged.other_files.end(),
                   [](const FileRow& a, const FileRow& b) { return a.case_name < b.case_name; });
  merged.other_files.insert(merged.other_files.begin(), global_files.begin(), global_files.end());
  merged.save(out);
  return merged;
}

}  // namespace

RunReport mergeShardReports(const fs::path& out) {
  const auto parts = findParts(out);
  if (parts.empty()) throw Error(out, "no shard reports (ctdeface-report.shard-I-of-N.json) here");
  if (parts.size() > 1) throw Error(out, "shard reports of different shard counts here; remove the stale ones");
  return merge(out, parts.begin()->first, parts.begin()->second);
}

std::optional<RunReport> mergeIfComplete(const fs::path& out, int count) {
  const auto parts = findParts(out);
  const auto it = parts.find(count);
  if (it == parts.end() || static_cast<int>(it->second.size()) != count) return std::nullopt;
  return merge(out, count, it->second);
}

}  // namespace ctd::batch
