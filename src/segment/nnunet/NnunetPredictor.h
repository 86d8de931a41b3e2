#pragma once
// A trained nnU-Net v2 model (results folder) ready to predict: plans, chosen folds, one network
// per fold on the oneDNN engine, and nnU-Net's inference path (preprocess, sliding window,
// export) around them. No Python involved.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/Network.h"
#include "nn/NnunetPlans.h"
#include "segment/nnunet/ImageGrid.h"
#include "segment/nnunet/PredictionExport.h"

namespace ctd::nnunet {

struct PredictorOptions {
  double step_size = 0.5;
  bool tta = false;                  // mirroring over the checkpoint's allowed axes
  std::vector<std::string> folds;    // empty: "all" if fold_all exists, else every numbered fold
  int threads = 0;                   // 0 = all cores
  bool bf16 = false;
  bool half_accumulators = true;     // float16 logit accumulation as nnU-Net does (see SlidingWindowPredictor)
  std::string configuration;         // empty: from the folder name (..__3d_fullres), else 3d_fullres
  std::string checkpoint = "checkpoint_final.pth";
};

class NnunetPredictor {
 public:
  // Loads and checks everything up front; throws ctd::Error (one line naming the file) for a
  // missing file or fold, a corrupted checkpoint, or a plans/checkpoint mismatch.
  NnunetPredictor(const std::filesystem::path& model_folder, PredictorOptions options);
  ~NnunetPredictor();

  const nn::NnunetPlans& plans() const { return plans_; }
  const std::vector<std::string>& folds() const { return folds_; }
  const std::vector<int>& mirrorAxes() const { return mirror_axes_; }
  const std::string& trainerName() const { return trainer_; }
  const PredictorOptions& options() const { return opt_; }

  // image: channels x [z][y][x] (SimpleITK order), spacing in the same order.
  // `roi` (a box on `image`): evaluate only nnU-Net's tiles that overlap it, see
  // SlidingWindowOptions::roi; voxels outside are background. `tiles`, if set, receives how many
  // tiles were evaluated per fold and how many the whole image has.
  ExportedPrediction predict(const ImageGrid& image, const Spacing3& spacing, bool with_probabilities = false,
                             const std::function<void(std::size_t, std::size_t)>& progress = {},
                             const std::optional<Box3>& roi = std::nullopt,
                             std::pair<std::size_t, std::size_t>* tiles = nullptr);

 private:
  std::filesystem::path folder_;
  PredictorOptions opt_;
  nn::NnunetPlans plans_;
  std::vector<std::string> folds_;
  std::vector<int> mirror_axes_;
  std::string trainer_;
  std::vector<std::unique_ptr<nn::Network>> nets_;
};

}  // namespace ctd::nnunet
