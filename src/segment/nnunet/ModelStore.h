#pragma once
// Installed nnU-Net models: $CTDEFACE_HOME (default $XDG_DATA_HOME/ctdeface, else
// ~/.local/share/ctdeface), one results folder per name under models/<name>/.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace ctd::nnunet {

struct ModelSummary {
  std::string name;
  std::filesystem::path folder;
  std::string configuration, network_class;
  std::vector<std::string> folds;
  std::vector<std::string> labels;  // "name=value"
  std::vector<int> patch_size;
  std::string line() const;         // one line for `model list` / install
};

// Checks an nnU-Net results folder the way install does: dataset.json and plans.json load, and
// every fold's checkpoint loads and builds a network matching the plans. Throws ctd::Error.
ModelSummary inspectModelFolder(const std::filesystem::path& folder, const std::string& name = {});

class ModelStore {
 public:
  explicit ModelStore(std::filesystem::path home);
  static std::filesystem::path defaultHome();
  const std::filesystem::path& home() const { return home_; }
  std::filesystem::path modelsDir() const { return home_ / "models"; }

  // Installs a results folder, or a .zip holding one anywhere inside, as `name`: unpacked/copied
  // into a staging folder next to the store, checked (inspectModelFolder), then renamed into place
  // (an existing model of that name is replaced only after the new one passed). Prints what it
  // found to `out`. Throws ctd::Error.
  ModelSummary install(const std::filesystem::path& folder_or_zip, const std::string& name, std::ostream& out) const;

  std::vector<ModelSummary> list() const;  // installed models, by name (unreadable ones say why)

  // --model value -> results folder: an existing folder path as it is, else an installed name.
  // A name that is not installed: one line saying how to install it.
  std::filesystem::path resolve(const std::string& model) const;

 private:
  std::filesystem::path home_;
};

}  // namespace ctd::nnunet
