#include "segment/nnunet/NnunetPredictor.h"

#include <algorithm>
#include <cmath>

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

namespace {

// A box on the original image -> the box on the preprocessed grid that holds every preprocessed
// voxel the original box's voxels are exported from: transposed, shifted by the non-zero crop,
// scaled by the resampling, and widened by 12 voxels when resampled: the order-3 spline's
// prefilter reaches every voxel, but a step's influence decays by 0.268 per voxel (1e-7 at 12).
Box3 preprocessedBox(const Box3& roi, const CaseProperties& props, const Shape3& preprocessed_shape) {
  const auto& tf = props.transpose_forward;
  Box3 out;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t src = tf[static_cast<std::size_t>(a)];
    const std::int64_t n_crop = props.shape_after_cropping[a], n_pre = preprocessed_shape[a];
    std::int64_t b = std::clamp<std::int64_t>(roi.begin[src] - props.bbox.begin[a], 0, n_crop);
    std::int64_t e = std::clamp<std::int64_t>(roi.end[src] - props.bbox.begin[a], 0, n_crop);
    if (e <= b) return Box3{};  // outside the non-zero region: nothing to predict
    if (n_pre != n_crop) {
      const double scale = static_cast<double>(n_pre) / static_cast<double>(n_crop);
      b = static_cast<std::int64_t>(std::floor(static_cast<double>(b) * scale)) - 12;
      e = static_cast<std::int64_t>(std::ceil(static_cast<double>(e) * scale)) + 12;
    }
    out.begin[a] = std::clamp<std::int64_t>(b, 0, n_pre);
    out.end[a] = std::clamp<std::int64_t>(e, 0, n_pre);
  }
  return out;
}

}  // namespace

ExportedPrediction NnunetPredictor::predict(const ImageGrid& image, const Spacing3& spacing, bool with_probabilities,
                                            const std::function<void(std::size_t, std::size_t)>& progress,
                                            const std::optional<Box3>& roi, std::pair<std::size_t, std::size_t>* tiles) {
  PreprocessedCase pre = preprocessCase(image, spacing, plans_);
  SlidingWindowOptions so;
  so.step_size = opt_.step_size;
  so.mirror = opt_.tta;
  so.mirror_axes = mirror_axes_;
  so.half_accumulators = opt_.half_accumulators;
  std::vector<std::int64_t> patch(plans_.patch_size.begin(), plans_.patch_size.end());
  const int K = plans_.numSegmentationHeads();
  if (tiles) tiles->second = SlidingWindowPredictor(patch, K, so).tileCount(pre.data.shape);
  if (roi) {
    so.roi = preprocessedBox(*roi, pre.props, pre.data.shape);
    // Background outside: class 0 wins a softmax; with regions every sigmoid stays below 0.5.
    so.outside_logits.assign(static_cast<std::size_t>(K), -20.0f);
    if (!plans_.has_regions) so.outside_logits[0] = 0.0f;
  }
  SlidingWindowPredictor swp(patch, K, so);
  if (tiles) tiles->first = swp.tileCount(pre.data.shape);
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
  ExportedPrediction out = exportPrediction(logits, pre.props, targetSpacing(plans_, spacing_t),
                                            resamplingParams(plans_.resampling_probabilities), ls, with_probabilities,
                                            opt_.half_accumulators);
  if (roi) {
    // The preprocessed box reaches a little beyond the region (resampling); the region is what
    // was asked for, so everything outside it is background, sure or not.
    const Shape3& s = out.shape;
    const std::size_t n = ImageGrid::voxels(s);
    const bool probs = !out.probabilities.data.empty();
    for (std::int64_t z = 0; z < s[0]; ++z)
      for (std::int64_t y = 0; y < s[1]; ++y)
        for (std::int64_t x = 0; x < s[2]; ++x) {
          if (z >= roi->begin[0] && z < roi->end[0] && y >= roi->begin[1] && y < roi->end[1] && x >= roi->begin[2] &&
              x < roi->end[2])
            continue;
          const std::size_t i = static_cast<std::size_t>((z * s[1] + y) * s[2] + x);
          out.labels[i] = 0;
          if (probs)
            for (int k = 0; k < out.probabilities.channels; ++k)
              out.probabilities.data[static_cast<std::size_t>(k) * n + i] = k == 0 && !plans_.has_regions ? 1.0f : 0.0f;
        }
  }
  return out;
}

}  // namespace ctd::nnunet
