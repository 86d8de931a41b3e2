#include "nn/ModelFolder.h"

#include <algorithm>

#include "core/Error.h"

namespace ctd::nn {
namespace fs = std::filesystem;

namespace {

bool isNumber(const std::string& s) {
  return !s.empty() && s.size() < 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

}  // namespace

ModelFolder::ModelFolder(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) throw Error(root_, "model folder does not exist or is not a folder");
  for (const char* f : {"dataset.json", "plans.json"})
    if (!fs::is_regular_file(root_ / f, ec))
      throw Error(root_, std::string("not an nnU-Net model folder: ") + f + " is missing");
}

std::string ModelFolder::configurationFromName() const {
  const std::string name = (root_.has_filename() ? root_ : root_.parent_path()).filename().string();
  const auto first = name.find("__");
  const auto last = name.rfind("__");
  if (first == std::string::npos || first == last || last + 2 >= name.size()) return {};
  return name.substr(last + 2);
}

std::vector<std::string> ModelFolder::availableFolds(const std::string& checkpoint) const {
  std::vector<int> numbered;
  bool all = false;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("fold_", 0) != 0 || !fs::is_regular_file(entry.path() / checkpoint, ec)) continue;
    const std::string id = name.substr(5);
    if (id == "all")
      all = true;
    else if (isNumber(id))
      numbered.push_back(std::stoi(id));
  }
  std::sort(numbered.begin(), numbered.end());
  std::vector<std::string> out;
  for (int n : numbered) out.push_back(std::to_string(n));
  if (all) out.emplace_back("all");
  return out;
}

std::vector<std::string> ModelFolder::chooseFolds(const std::vector<std::string>& requested,
                                                  const std::string& checkpoint) const {
  const auto have = availableFolds(checkpoint);
  if (requested.empty()) {
    std::vector<std::string> numbered;
    for (const auto& f : have)
      if (f != "all") numbered.push_back(f);
    if (!numbered.empty()) return numbered;
    if (!have.empty()) return have;
    throw Error(root_, "no fold_*/" + checkpoint + " in the model folder");
  }
  std::vector<std::string> out;
  for (const auto& f : requested) {
    std::string id = f;
    if (isNumber(id)) id = std::to_string(std::stoi(id));  // "01" names fold_1, as int() does in nnU-Net
    if (id != "all" && !isNumber(id)) throw Error(root_, "fold \"" + f + "\" is neither a number nor \"all\"");
    if (std::find(have.begin(), have.end(), id) == have.end())
      throw Error(root_, "fold_" + id + "/" + checkpoint + " does not exist (folds with " + checkpoint + ": " +
                             joined(have) + ")");
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

fs::path ModelFolder::checkpointPath(const std::string& fold, const std::string& checkpoint) const {
  return root_ / ("fold_" + fold) / checkpoint;
}

}  // namespace ctd::nn
