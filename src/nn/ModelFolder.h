#pragma once
// An nnU-Net v2 trained-model folder (`<Trainer>__<Plans>__<configuration>/`):
// dataset.json, plans.json and fold_<k>/checkpoint_final.pth (optionally checkpoint_best.pth).
#include <filesystem>
#include <string>
#include <vector>

#include "nn/NnunetPlans.h"

namespace ctd::nn {

class ModelFolder {
 public:
  // Throws ctd::Error naming the folder if it, dataset.json or plans.json is missing.
  explicit ModelFolder(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path plansJson() const { return root_ / "plans.json"; }
  std::filesystem::path datasetJson() const { return root_ / "dataset.json"; }

  // The configuration encoded in the folder name ("nnUNetTrainer__nnUNetPlans__3d_fullres" -> "3d_fullres"),
  // or empty when the name does not have that form.
  std::string configurationFromName() const;

  // Folds holding `checkpoint`, as nnU-Net names them: "0", "1", ... (numeric order), then "all" (fold_all).
  std::vector<std::string> availableFolds(const std::string& checkpoint = "checkpoint_final.pth") const;

  // nnU-Net's -f semantics: "all" means the fold_all folder, numbers mean fold_<n>. An empty request
  // takes every numbered fold that has the checkpoint (nnU-Net's auto-detection), or "all" when only
  // fold_all exists. Throws ctd::Error naming the missing fold and listing what exists.
  std::vector<std::string> chooseFolds(const std::vector<std::string>& requested,
                                       const std::string& checkpoint = "checkpoint_final.pth") const;

  std::filesystem::path checkpointPath(const std::string& fold,
                                       const std::string& checkpoint = "checkpoint_final.pth") const;

  NnunetPlans plans(const std::string& configuration) const { return loadPlans(plansJson(), datasetJson(), configuration); }

 private:
  std::filesystem::path root_;
};

}  // namespace ctd::nn
