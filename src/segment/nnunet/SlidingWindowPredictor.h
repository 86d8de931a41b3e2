#pragma once
// nnU-Net's sliding-window inference (sliding_window_prediction.py and nnUNetPredictor's
// predict_sliding_window_return_logits): pad to at least the patch size (constant 0, split as
// pad_nd_image does), tiles at compute_steps_for_sliding_window positions, Gaussian importance
// weighting (compute_gaussian: sigma = patch/8, peak 10, stored as float16, zeros replaced by the
// smallest non-zero value), optional mirroring over the allowed axes with nnU-Net's combinations,
// logits of several folds averaged, and the padding cropped away. By default the accumulators
// are rounded to float16 at every step exactly as nnU-Net 2.x keeps them (its CPU results arrays
// are torch.half): at border voxels, where the Gaussian weights are tiny, that rounding decides
// the result, so only this reproduces nnU-Net's output; float32 accumulation is an option.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "nn/Tensor.h"
#include "segment/nnunet/ImageGrid.h"

namespace ctd::nnunet {

// One network (one fold): 1 x C x patch -> 1 x K x patch (logits).
using PatchNetwork = std::function<nn::Tensor(const nn::Tensor&)>;

struct SlidingWindowOptions {
  double step_size = 0.5;        // fraction of the patch, 0 < s <= 1
  bool use_gaussian = true;
  bool mirror = false;           // test-time augmentation
  std::vector<int> mirror_axes;  // spatial axes of the patch (0-based), nnU-Net's inference_allowed_mirroring_axes
  bool half_accumulators = true; // float16 logits/weight sums like nnU-Net; false: float32
  // Region of interest on the image given to predictLogits (unpadded coordinates). Only the tiles
  // of nnU-Net's own grid that overlap it are evaluated: every voxel inside it is covered by the
  // same tiles, summed in the same order, as without a region, so its logits are identical. Every
  // voxel outside gets `outside_logits` (K values; empty: 0 for channel 0, -20 for the others,
  // i.e. background). An empty box evaluates no tile.
  std::optional<Box3> roi;
  std::vector<float> outside_logits;
};

// Rounds to the nearest float16 value (round to nearest even, as torch's float -> half).
inline float roundToHalf(float v) { return static_cast<float>(static_cast<_Float16>(v)); }

// Tile origins per axis (compute_steps_for_sliding_window); image_size >= tile_size per axis.
std::vector<std::vector<std::int64_t>> computeSteps(const std::vector<std::int64_t>& image_size,
                                                    const std::vector<std::int64_t>& tile_size, double step_size);

// The importance map over a patch (row-major), as nnU-Net computes it, rounded to float16.
std::vector<float> computeGaussian(const std::vector<std::int64_t>& tile_size, double sigma_scale = 1.0 / 8,
                                   double value_scaling_factor = 10);

// The flip combinations nnU-Net evaluates besides the plain prediction (itertools.combinations of
// the axes, by size): {0}, {1}, {2}, {0,1}, {0,2}, {1,2}, {0,1,2} for three axes.
std::vector<std::vector<int>> mirrorCombinations(const std::vector<int>& axes);

class SlidingWindowPredictor {
 public:
  // patch_size: 3 entries (3D network) or 2 (2D network, applied to every slice along axis 0).
  SlidingWindowPredictor(std::vector<std::int64_t> patch_size, int num_classes, SlidingWindowOptions options);

  // data: the preprocessed image (C channels). Returns K channels of logits on data's shape,
  // averaged over `folds`. `progress(done, total)` is called after each tile, if set.
  ImageGrid predictLogits(const ImageGrid& data, const std::vector<PatchNetwork>& folds,
                          const std::function<void(std::size_t, std::size_t)>& progress = {}) const;

  // How many tiles (network evaluations per fold, before mirroring) an image of `shape` needs,
  // counting only those that overlap options.roi when it is set.
  std::size_t tileCount(const Shape3& shape) const;

 private:
  std::vector<std::int64_t> patch_;
  int num_classes_;
  SlidingWindowOptions opt_;
};

}  // namespace ctd::nnunet
