#pragma once
// What inference needs from an nnU-Net v2 `plans.json` + `dataset.json`, for one configuration,
// with `inherits_from` resolved and the pre-2.4 plans layout (UNet_class_name, ...) converted to the
// `architecture` layout exactly as nnunetv2's ConfigurationManager does.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctd::nn {

// foreground_intensity_properties_per_channel["<c>"], used by CTNormalization.
struct IntensityProperties {
  double mean = 0, median = 0, std = 0, min = 0, max = 0;
  double percentile_00_5 = 0, percentile_99_5 = 0;
};

// One of resampling_fn_data / _seg / _probabilities with its kwargs
// (e.g. {"is_seg": false, "order": 3, "order_z": 0, "force_separate_z": null}).
struct ResamplingSpec {
  std::string function;            // e.g. "resample_data_or_seg_to_shape"
  nlohmann::json kwargs = nlohmann::json::object();
};

enum class ArchitectureKind { PlainConvUNet, ResidualEncoderUNet };

// dynamic_network_architectures' constructor arguments, scalars already expanded to per-axis lists.
struct UNetArchitecture {
  std::string network_class_name;  // as written, e.g. "dynamic_network_architectures.architectures.unet.PlainConvUNet"
  ArchitectureKind kind = ArchitectureKind::PlainConvUNet;
  int dims = 3;                                   // 2 or 3, from conv_op
  int n_stages = 0;
  std::vector<int> features_per_stage;            // n_stages
  std::vector<std::vector<int>> kernel_sizes;     // n_stages x dims
  std::vector<std::vector<int>> strides;          // n_stages x dims
  std::vector<int> n_conv_per_stage;              // encoder (PlainConvUNet) or n_blocks_per_stage (ResEnc)
  std::vector<int> n_conv_per_stage_decoder;      // n_stages - 1
  bool conv_bias = true;
  std::string conv_op, norm_op, nonlin, dropout_op;  // dotted names; dropout_op empty when None
  bool norm_affine = true;
  double norm_eps = 1e-5;
  double nonlin_negative_slope = 0.01;            // LeakyReLU default when nonlin_kwargs has none
  nlohmann::json arch_kwargs = nlohmann::json::object();  // the resolved raw kwargs, for anything not above
};

// dataset.json "labels": name -> value, or name -> list of values for region-based training.
struct LabelEntry {
  std::string name;
  std::vector<int> values;
};

struct NnunetPlans {
  // plans.json, top level
  std::string dataset_name, plans_name;
  std::vector<int> transpose_forward, transpose_backward;
  std::vector<double> original_median_spacing_after_transp;
  std::string image_reader_writer;
  std::map<int, IntensityProperties> foreground_intensity_properties_per_channel;  // by channel index

  // the configuration, resolved
  std::string configuration;
  std::vector<int> patch_size;
  std::vector<double> spacing;
  std::vector<std::string> normalization_schemes;  // per channel, e.g. "CTNormalization", "ZScoreNormalization"
  std::vector<bool> use_mask_for_norm;
  ResamplingSpec resampling_data, resampling_seg, resampling_probabilities;
  UNetArchitecture architecture;
  nlohmann::json configuration_json;  // the resolved configuration dict as read

  // dataset.json
  std::vector<std::string> channel_names;          // index order ("0", "1", ...)
  std::vector<LabelEntry> labels;                  // in file order
  bool has_regions = false;
  std::vector<int> regions_class_order;            // empty unless given
  std::string file_ending;

  int numInputChannels() const { return static_cast<int>(channel_names.size()); }
  // Output channels of the network: the number of labels (incl. background) or, with regions,
  // the number of regions (background excluded), as nnU-Net's LabelManager counts them.
  int numSegmentationHeads() const;
};

// Throws ctd::Error (one line, naming the file) for a missing/malformed file, an unknown configuration,
// a circular inherits_from, or an unsupported architecture.
NnunetPlans loadPlans(const std::filesystem::path& plans_json, const std::filesystem::path& dataset_json,
                      const std::string& configuration);

}  // namespace ctd::nn
