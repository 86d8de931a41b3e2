#include "segment/nnunet/NnunetPredictor.h"

#include <algorithm>

#include "core/Error.h"
#include "nn/ModelFolder.h"
#include "nn/TorchCheckpoint.h"
#include "segment/nnunet/NnunetPreprocessor.h"
#include "segment/nnunet/SlidingWindowPredictor.h"

namespace ctd::nnunet {

NnunetPredictor::NnunetPredictor(const std::filesystem::path& model_folder, PredictorOptions options)
    : folder_(model_folder), opt_(std::move(options)) {
  const nn::ModelFolder mf(folder_);
  std::string conf = opt_.configuration;
  if (conf.empty()) conf = mf.configurationFromName();
  if (conf.empty()) conf = "3d_fullres";
  plans_ = mf.plans(conf);
  if (opt_.folds.empty()) {
    const auto avail = mf.availableFolds(opt_.checkpoint);
    if (std::find(avail.begin(), avail.end(), "all") != avail.end())
      folds_ = {"all"};
    else
      folds_ = mf.chooseFolds({}, opt_.checkpoint);
  } else {
    folds_ = mf.chooseFolds(opt_.folds, opt_.checkpoint);
  }
  nn::EngineOptions eo;
  eo.threads = opt_.threads;
  eo.bf16 = opt_.bf16;
  for (std::size_t i = 0; i < folds_.size(); ++i) {
    const auto path = mf.checkpointPath(folds_[i], opt_.checkpoint);
    const nn::CheckpointContents ck = nn::readCheckpoint(path);
    if (i == 0) {
      // nnU-Net takes the mirroring axes and trainer from the first fold's checkpoint.
      trainer_ = ck.trainer_name;
      if (ck.inference_allowed_mirroring_axes)
        mirror_axes_ = *ck.inference_allowed_mirroring_axes;
    }
    try {
      nets_.push_back(nn::buildNetwork(plans_, ck, plans_.numInputChannels(), plans_.numSegmentationHeads(), eo));
    } catch (const Error& e) {
      throw Error(path, std::string("does not match plans.json: ") + e.what());
    }
  }
}

NnunetPredictor::~NnunetPredictor() = default;

ExportedPrediction NnunetPredictor::predict(const ImageGrid& image, const Spacing3& spacing, bool with_probabilities,
                                            const std::function<void(std::size_t, std::size_t)>& progress) {
  PreprocessedCase pre = preprocessCase(image, spacing, plans_);
  SlidingWindowOptions so;
  so.step_size = opt_.step_size;
  so.mirror = opt_.tta;
  so.mirror_axes = mirror_axes_;
  so.half_accumulators = opt_.half_accumulators;
  std::vector<std::int64_t> patch(plans_.patch_size.begin(), plans_.patch_size.end());
  SlidingWindowPredictor swp(patch, plans_.numSegmentationHeads(), so);
  std::vector<PatchNetwork> fns;
  for (auto& n : nets_) {
    nn::Network* net = n.get();
    fns.push_back([net](const nn::Tensor& x) { return net->forward(x); });
  }
  ImageGrid logits = swp.predictLogits(pre.data, fns, progress);
  pre.data = ImageGrid();
  const auto& tf = pre.props.transpose_forward;
  const Spacing3 spacing_t{spacing[tf[0]], spacing[tf[1]], spacing[tf[2]]};
  LabelScheme ls;
  ls.has_regions = plans_.has_regions;
  ls.regions_class_order = plans_.regions_class_order;
  return exportPrediction(logits, pre.props, targetSpacing(plans_, spacing_t),
                          resamplingParams(plans_.resampling_probabilities), ls, with_probabilities,
                          opt_.half_accumulators);
}

}  // namespace ctd::nnunet
