#include "segment/nnunet/ModelStore.h"

#include <zip.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>

#include "core/Error.h"
#include "nn/ModelFolder.h"
#include "nn/Network.h"
#include "nn/TorchCheckpoint.h"

namespace fs = std::filesystem;

namespace ctd::nnunet {
namespace {

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

bool validName(const std::string& n) {
  if (n.empty() || n[0] == '.' || n.size() > 100) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string randomSuffix() {
  std::random_device rd;
  std::ostringstream s;
  s << std::hex << rd() << rd();
  return s.str();
}

bool isResultsFolder(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p / "dataset.json", ec) || !fs::is_regular_file(p / "plans.json", ec)) return false;
  for (const auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory() && e.path().filename().string().rfind("fold_", 0) == 0) return true;
  return false;
}

// The folder holding dataset.json + plans.json + fold_* at or below `root` (the shallowest one).
fs::path findResultsFolder(const fs::path& root) {
  if (isResultsFolder(root)) return root;
  std::error_code ec;
  fs::path best;
  std::size_t best_depth = SIZE_MAX;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_directory() && !it->is_symlink() && isResultsFolder(it->path()) &&
        static_cast<std::size_t>(it.depth()) < best_depth) {
      best = it->path();
      best_depth = static_cast<std::size_t>(it.depth());
    }
  }
  return best;
}

void unzipInto(const fs::path& zip_path, const fs::path& dest) {
  int err = 0;
  zip_t* z = zip_open(zip_path.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    const std::string why = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw Error(zip_path, "cannot open the zip: " + why);
  }
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{z};
  const zip_int64_t n = zip_get_num_entries(z, 0);
  std::vector<char> buf(1 << 20);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* raw = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
    if (!raw) continue;
    const std::string name = raw;
    const fs::path rel = fs::path(name).lexically_normal();
    if (rel.is_absolute() || rel.empty() || *rel.begin() == "..")
      throw Error(zip_path, "unsafe path in the zip: " + name);
    const fs::path out = dest / rel;
    if (!name.empty() && name.back() == '/') {
      fs::create_directories(out);
      continue;
    }
    fs::create_directories(out.parent_path());
    zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(i), 0);
    if (!f) throw Error(zip_path, "cannot read " + name + " in the zip: " + zip_strerror(z));
    std::ofstream o(out, std::ios::binary);
    zip_int64_t got;
    while ((got = zip_fread(f, buf.data(), buf.size())) > 0) o.write(buf.data(), got);
    zip_fclose(f);
    if (got < 0 || !o) throw Error(zip_path, "cannot unpack " + name + " (corrupted zip or disk full)");
  }
}

}  // namespace

std::string ModelSummary::line() const {
  std::ostringstream s;
  s << name << ": " << configuration << ", " << network_class << ", patch";
  for (std::size_t i = 0; i < patch_size.size(); ++i) s << (i ? "x" : " ") << patch_size[i];
  s << ", folds " << joined(folds, ",") << ", labels " << joined(labels, " ") << " (" << folder.string() << ")";
  return s.str();
}

ModelSummary inspectModelFolder(const fs::path& folder, const std::string& name) {
  const nn::ModelFolder mf(folder);
  std::string conf = mf.configurationFromName();
  if (conf.empty()) conf = "3d_fullres";
  const nn::NnunetPlans plans = mf.plans(conf);
  ModelSummary s;
  s.name = name.empty() ? folder.filename().string() : name;
  s.folder = folder;
  s.configuration = conf;
  const auto& cls = plans.architecture.network_class_name;
  s.network_class = cls.substr(cls.rfind('.') == std::string::npos ? 0 : cls.rfind('.') + 1);
  s.patch_size = plans.patch_size;
  for (const auto& l : plans.labels)
    if (!l.values.empty()) s.labels.push_back(l.name + "=" + std::to_string(l.values.front()));
  s.folds = mf.availableFolds();
  if (s.folds.empty()) throw Error(folder, "no fold_*/checkpoint_final.pth in the model folder");
  for (const auto& f : s.folds) {
    const fs::path ck = mf.checkpointPath(f);
    const nn::CheckpointContents c = nn::readCheckpoint(ck);
    try {
      (void)nn::buildNetwork(plans, c, plans.numInputChannels(), plans.numSegmentationHeads(), {});
    } catch (const Error& e) {
      throw Error(ck, std::string("does not match plans.json: ") + e.what());
    }
  }
  return s;
}

ModelStore::ModelStore(fs::path home) : home_(std::move(home)) {}

fs::path ModelStore::defaultHome() {
  if (const char* h = std::getenv("CTDEFACE_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return fs::path(x) / "ctdeface";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".local/share/ctdeface";
  throw Error("cannot find a place for the model store: set CTDEFACE_HOME");
}

ModelSummary ModelStore::install(const fs::path& src, const std::string& name, std::ostream& out) const {
  if (!validName(name)) throw Error("model name '" + name + "' is not valid (letters, digits, . _ -)");
  std::error_code ec;
  if (!fs::exists(src, ec)) throw Error(src, "does not exist");
  fs::create_directories(modelsDir());
  const fs::path staging = modelsDir() / (".staging-" + randomSuffix());
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{staging};
  fs::create_directories(staging);

  fs::path found;
  const fs::path unpacked = staging / "unpacked";
  if (fs::is_directory(src)) {
    found = findResultsFolder(src);
    if (found.empty())
      throw Error(src, "no nnU-Net results folder (dataset.json, plans.json, fold_*/) in it");
  } else {
    unzipInto(src, unpacked);
    found = findResultsFolder(unpacked);
    if (found.empty())
      throw Error(src, "no nnU-Net results folder (dataset.json, plans.json, fold_*/) in the zip");
  }
  // The folder keeps its nnU-Net name (Trainer__Plans__configuration) inside the model, so the
  // configuration is still known: models/<name>/<results folder name>/.
  const fs::path model_dir = staging / "model";
  const fs::path dest_inner = model_dir / found.filename();
  fs::create_directories(model_dir);
  if (found.string().rfind(unpacked.string(), 0) == 0)
    fs::rename(found, dest_inner);
  else
    fs::copy(found, dest_inner, fs::copy_options::recursive);
  out << "checking " << found.string() << '\n';
  ModelSummary s = inspectModelFolder(dest_inner, name);

  const fs::path final_dir = modelsDir() / name;
  if (fs::exists(final_dir)) {
    const fs::path old = modelsDir() / (".old-" + name + "-" + randomSuffix());
    fs::rename(final_dir, old);
    fs::rename(model_dir, final_dir);
    fs::remove_all(old, ec);
    out << "replaced the installed model '" << name << "'\n";
  } else {
    fs::rename(model_dir, final_dir);
  }
  s.folder = final_dir / found.filename();
  out << "installed " << s.line() << '\n';
  return s;
}

std::vector<ModelSummary> ModelStore::list() const {
  std::vector<ModelSummary> out;
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(modelsDir(), ec))
    if (e.is_directory() && e.path().filename().string()[0] != '.') dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    ModelSummary s;
    s.name = d.filename().string();
    s.folder = d;
    try {
      const fs::path f = findResultsFolder(d);
      if (f.empty()) throw Error(d, "no results folder inside");
      const nn::ModelFolder mf(f);
      std::string conf = mf.configurationFromName();
      if (conf.empty()) conf = "3d_fullres";
      const nn::NnunetPlans plans = mf.plans(conf);
      s.folder = f;
      s.configuration = conf;
      const auto& cls = plans.architecture.network_class_name;
      s.network_class = cls.substr(cls.rfind('.') == std::string::npos ? 0 : cls.rfind('.') + 1);
      s.patch_size = plans.patch_size;
      s.folds = mf.availableFolds();
      for (const auto& l : plans.labels)
        if (!l.values.empty()) s.labels.push_back(l.name + "=" + std::to_string(l.values.front()));
    } catch (const Error& e) {
      s.configuration = std::string("unreadable: ") + e.what();
    }
    out.push_back(std::move(s));
  }
  return out;
}

fs::path ModelStore::resolve(const std::string& model) const {
  std::error_code ec;
  const bool looks_like_path = model.find('/') != std::string::npos || model == "." || model == "..";
  if (fs::is_directory(model, ec) && (looks_like_path || !fs::is_directory(modelsDir() / model, ec))) {
    const fs::path f = findResultsFolder(model);
    if (f.empty()) throw Error(model, "not an nnU-Net results folder (dataset.json, plans.json, fold_*/)");
    return f;
  }
  if (looks_like_path) throw Error(model, "model folder does not exist");
  if (validName(model) && fs::is_directory(modelsDir() / model, ec)) {
    const fs::path f = findResultsFolder(modelsDir() / model);
    if (f.empty()) throw Error(modelsDir() / model, "installed model is incomplete; install it again");
    return f;
  }
  std::string how = "ctdeface model install <folder-or-zip> --name " + model;
  if (model == "cta-deface") how = "scripts/download-cta-deface.sh (downloads the authors' weights), or " + how;
  throw Error("model '" + model + "' is not installed in " + modelsDir().string() + "; install it with " + how);
}

}  // namespace ctd::nnunet
