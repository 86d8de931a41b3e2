#include "nn/NnunetPlans.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <type_traits>

#include "core/Error.h"

namespace ctd::nn {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// dataset.json label order matters for regions, so files are parsed order-preserving.
ojson readJson(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(file, "cannot open (missing or unreadable)");
  try {
    return ojson::parse(in);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    throw Error(file, "not valid JSON: " + msg.substr(0, msg.find('\n')));
  }
}

class Reader {
 public:
  explicit Reader(const fs::path& file) : file_(file) {}
  const fs::path& file() const { return file_; }

  const ojson& need(const ojson& obj, const std::string& key, const std::string& where) const {
    if (!obj.is_object() || !obj.contains(key)) throw Error(file_, "missing \"" + key + "\"" + where);
    return obj.at(key);
  }

  template <typename T>
  T as(const ojson& v, const std::string& key) const {
    // nlohmann casts a float to int unchecked: 1e79 as int is undefined
    // behaviour (FuzzPlans finding), so such numbers are refused first.
    if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::vector<int>>) requireIntRange(v, key);
    try {
      return v.get<T>();
    } catch (const std::exception&) {
      throw Error(file_, "\"" + key + "\" has an unexpected type (" + std::string(v.type_name()) + ")");
    }
  }

  void requireIntRange(const ojson& v, const std::string& key) const {
    if (v.is_array())
      for (const auto& e : v) requireIntRange(e, key);
    if (!v.is_number_float()) return;
    const double d = v.get<double>();
    if (!(d >= std::numeric_limits<int>::min() && d <= std::numeric_limits<int>::max()))
      throw Error(file_, "\"" + key + "\" holds a number out of range for an integer");
  }

  // DNA's maybe_convert_scalar_to_list: an int stands for the same value on every axis.
  std::vector<std::vector<int>> perStageAxes(const ojson& v, const std::string& key, int n_stages, int dims) const {
    std::vector<std::vector<int>> out;
    if (v.is_number_integer()) return std::vector<std::vector<int>>(n_stages, std::vector<int>(dims, v.get<int>()));
    if (!v.is_array() || static_cast<int>(v.size()) != n_stages)
      throw Error(file_, "\"" + key + "\" must list " + std::to_string(n_stages) + " stages");
    for (const auto& s : v) {
      if (s.is_number_integer()) {
        out.emplace_back(dims, s.get<int>());
      } else {
        auto axes = as<std::vector<int>>(s, key);
        if (static_cast<int>(axes.size()) != dims)
          throw Error(file_, "\"" + key + "\" entries must have " + std::to_string(dims) + " axes");
        out.push_back(axes);
      }
    }
    return out;
  }

  std::vector<int> perStage(const ojson& v, const std::string& key, int n) const {
    if (v.is_number_integer()) return std::vector<int>(n, v.get<int>());
    auto out = as<std::vector<int>>(v, key);
    if (static_cast<int>(out.size()) != n)
      throw Error(file_, "\"" + key + "\" must have " + std::to_string(n) + " entries, has " + std::to_string(out.size()));
    return out;
  }

 private:
  fs::path file_;
};

ojson resolveConfiguration(const ojson& configs, const std::string& name, const fs::path& file,
                           std::vector<std::string> visited) {
  if (!configs.contains(name)) {
    std::string have;
    for (const auto& [k, v] : configs.items()) have += (have.empty() ? "" : ", ") + k;
    throw Error(file, "no configuration \"" + name + "\" (has: " + have + ")");
  }
  if (std::find(visited.begin(), visited.end(), name) != visited.end())
    throw Error(file, "circular inherits_from at configuration \"" + name + "\"");
  visited.push_back(name);
  ojson cfg = configs.at(name);
  if (cfg.contains("inherits_from")) {
    ojson base = resolveConfiguration(configs, cfg.at("inherits_from").get<std::string>(), file, visited);
    for (const auto& [k, v] : cfg.items()) base[k] = v;  // dict.update: child keys win, shallowly
    cfg = base;
  }
  return cfg;
}

// nnunetv2 ConfigurationManager's conversion of pre-2.4 plans, key for key.
ojson convertLegacyArchitecture(const ojson& cfg, const Reader& r) {
  const std::string cls = r.as<std::string>(r.need(cfg, "UNet_class_name", " (no \"architecture\" either)"), "UNet_class_name");
  std::string network_class_name;
  if (cls == "PlainConvUNet")
    network_class_name = "dynamic_network_architectures.architectures.unet.PlainConvUNet";
  else if (cls == "ResidualEncoderUNet")
    network_class_name = "dynamic_network_architectures.architectures.residual_unet.ResidualEncoderUNet";
  else
    throw Error(r.file(), "unsupported UNet_class_name \"" + cls + "\" (only PlainConvUNet and ResidualEncoderUNet)");
  const auto& enc = r.need(cfg, "n_conv_per_stage_encoder", "");
  const int n_stages = static_cast<int>(enc.size());
  const int dims = static_cast<int>(r.need(cfg, "patch_size", "").size());
  const int base = r.as<int>(r.need(cfg, "UNet_base_num_features", ""), "UNet_base_num_features");
  const int maxf = r.as<int>(r.need(cfg, "unet_max_num_features", ""), "unet_max_num_features");
  std::vector<int> features;
  for (int i = 0; i < n_stages; ++i) features.push_back(std::min(base << i, maxf));
  ojson kw = ojson::object();
  kw["n_stages"] = n_stages;
  kw["features_per_stage"] = features;
  kw["conv_op"] = dims == 2 ? "torch.nn.modules.conv.Conv2d" : "torch.nn.modules.conv.Conv3d";
  kw["kernel_sizes"] = r.need(cfg, "conv_kernel_sizes", "");
  kw["strides"] = r.need(cfg, "pool_op_kernel_sizes", "");
  kw[cls == "PlainConvUNet" ? "n_conv_per_stage" : "n_blocks_per_stage"] = enc;
  kw["n_conv_per_stage_decoder"] = r.need(cfg, "n_conv_per_stage_decoder", "");
  kw["conv_bias"] = true;
  kw["norm_op"] = dims == 2 ? "torch.nn.modules.instancenorm.InstanceNorm2d" : "torch.nn.modules.instancenorm.InstanceNorm3d";
  kw["norm_op_kwargs"] = {{"eps", 1e-5}, {"affine", true}};
  kw["dropout_op"] = nullptr;
  kw["dropout_op_kwargs"] = nullptr;
  kw["nonlin"] = "torch.nn.LeakyReLU";
  kw["nonlin_kwargs"] = {{"inplace", true}};
  ojson arch;
  arch["network_class_name"] = network_class_name;
  arch["arch_kwargs"] = kw;
  arch["_kw_requires_import"] = {"conv_op", "norm_op", "dropout_op", "nonlin"};
  return arch;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

UNetArchitecture parseArchitecture(const ojson& arch, const Reader& r, const fs::path& file) {
  UNetArchitecture a;
  a.network_class_name = r.as<std::string>(r.need(arch, "network_class_name", " in \"architecture\""), "network_class_name");
  if (endsWith(a.network_class_name, "PlainConvUNet"))
    a.kind = ArchitectureKind::PlainConvUNet;
  else if (endsWith(a.network_class_name, "ResidualEncoderUNet"))
    a.kind = ArchitectureKind::ResidualEncoderUNet;
  else
    throw Error(file, "unsupported network class \"" + a.network_class_name +
                          "\" (only PlainConvUNet and ResidualEncoderUNet)");
  const ojson& kw = r.need(arch, "arch_kwargs", " in \"architecture\"");
  a.arch_kwargs = nlohmann::json::parse(kw.dump());
  a.conv_op = r.as<std::string>(r.need(kw, "conv_op", " in arch_kwargs"), "conv_op");
  if (endsWith(a.conv_op, "Conv3d"))
    a.dims = 3;
  else if (endsWith(a.conv_op, "Conv2d"))
    a.dims = 2;
  else
    throw Error(file, "unsupported conv_op \"" + a.conv_op + "\"");
  a.n_stages = r.as<int>(r.need(kw, "n_stages", " in arch_kwargs"), "n_stages");
  if (a.n_stages < 1) throw Error(file, "n_stages must be at least 1");
  a.features_per_stage = r.perStage(r.need(kw, "features_per_stage", " in arch_kwargs"), "features_per_stage", a.n_stages);
  a.kernel_sizes = r.perStageAxes(r.need(kw, "kernel_sizes", " in arch_kwargs"), "kernel_sizes", a.n_stages, a.dims);
  a.strides = r.perStageAxes(r.need(kw, "strides", " in arch_kwargs"), "strides", a.n_stages, a.dims);
  const char* blocks_key = a.kind == ArchitectureKind::PlainConvUNet ? "n_conv_per_stage" : "n_blocks_per_stage";
  a.n_conv_per_stage = r.perStage(r.need(kw, blocks_key, " in arch_kwargs"), blocks_key, a.n_stages);
  a.n_conv_per_stage_decoder =
      r.perStage(r.need(kw, "n_conv_per_stage_decoder", " in arch_kwargs"), "n_conv_per_stage_decoder", a.n_stages - 1);
  if (kw.contains("conv_bias") && !kw.at("conv_bias").is_null()) a.conv_bias = r.as<bool>(kw.at("conv_bias"), "conv_bias");
  if (kw.contains("norm_op") && !kw.at("norm_op").is_null()) a.norm_op = kw.at("norm_op").get<std::string>();
  if (a.norm_op.find("InstanceNorm") == std::string::npos)
    throw Error(file, "unsupported norm_op \"" + a.norm_op + "\" (only InstanceNorm)");
  if (kw.contains("norm_op_kwargs") && kw.at("norm_op_kwargs").is_object()) {
    const auto& nk = kw.at("norm_op_kwargs");
    if (nk.contains("eps")) a.norm_eps = r.as<double>(nk.at("eps"), "eps");
    if (nk.contains("affine")) a.norm_affine = r.as<bool>(nk.at("affine"), "affine");
  }
  if (kw.contains("nonlin") && !kw.at("nonlin").is_null()) a.nonlin = kw.at("nonlin").get<std::string>();
  if (!endsWith(a.nonlin, "LeakyReLU") && !endsWith(a.nonlin, ".ReLU"))
    throw Error(file, "unsupported nonlin \"" + a.nonlin + "\" (only LeakyReLU and ReLU)");
  if (endsWith(a.nonlin, ".ReLU")) a.nonlin_negative_slope = 0.0;
  if (kw.contains("nonlin_kwargs") && kw.at("nonlin_kwargs").is_object() && kw.at("nonlin_kwargs").contains("negative_slope"))
    a.nonlin_negative_slope = r.as<double>(kw.at("nonlin_kwargs").at("negative_slope"), "negative_slope");
  if (kw.contains("dropout_op") && !kw.at("dropout_op").is_null()) a.dropout_op = kw.at("dropout_op").get<std::string>();
  if (kw.contains("nonlin_first") && kw.at("nonlin_first").is_boolean() && kw.at("nonlin_first").get<bool>())
    throw Error(file, "unsupported nonlin_first = true");
  if (kw.contains("block") && kw.at("block").is_string() && !endsWith(kw.at("block").get<std::string>(), "BasicBlockD"))
    throw Error(file, "unsupported residual block \"" + kw.at("block").get<std::string>() + "\" (only BasicBlockD)");
  return a;
}

}  // namespace

int NnunetPlans::numSegmentationHeads() const {
  if (!has_regions) {
    std::set<int> all;
    for (const auto& l : labels)
      if (l.name != "ignore") all.insert(l.values.begin(), l.values.end());
    return static_cast<int>(all.size());
  }
  int n = 0;
  for (const auto& l : labels) {
    if (l.name == "ignore") continue;
    std::set<int> u(l.values.begin(), l.values.end());
    if (u.size() == 1 && *u.begin() == 0) continue;
    ++n;
  }
  return n;
}

NnunetPlans loadPlans(const fs::path& plans_json, const fs::path& dataset_json, const std::string& configuration) {
  NnunetPlans p;
  const ojson plans = readJson(plans_json);
  const Reader r(plans_json);
  if (plans.contains("dataset_name")) p.dataset_name = r.as<std::string>(plans.at("dataset_name"), "dataset_name");
  if (plans.contains("plans_name")) p.plans_name = r.as<std::string>(plans.at("plans_name"), "plans_name");
  p.transpose_forward = r.as<std::vector<int>>(r.need(plans, "transpose_forward", ""), "transpose_forward");
  p.transpose_backward = r.as<std::vector<int>>(r.need(plans, "transpose_backward", ""), "transpose_backward");
  if (plans.contains("original_median_spacing_after_transp"))
    p.original_median_spacing_after_transp =
        r.as<std::vector<double>>(plans.at("original_median_spacing_after_transp"), "original_median_spacing_after_transp");
  if (plans.contains("image_reader_writer")) p.image_reader_writer = r.as<std::string>(plans.at("image_reader_writer"), "image_reader_writer");
  if (plans.contains("foreground_intensity_properties_per_channel")) {
    for (const auto& [ch, v] : plans.at("foreground_intensity_properties_per_channel").items()) {
      IntensityProperties ip;
      // Captured by name: clang 14 (the fuzz build) cannot capture a structured binding.
      auto get = [&r, &v = v](const char* k, double& dst) {
        if (v.contains(k)) dst = r.as<double>(v.at(k), k);
      };
      get("mean", ip.mean);
      get("median", ip.median);
      get("std", ip.std);
      get("min", ip.min);
      get("max", ip.max);
      get("percentile_00_5", ip.percentile_00_5);
      get("percentile_99_5", ip.percentile_99_5);
      int idx = 0;
      try {
        idx = std::stoi(ch);
      } catch (const std::exception&) {
        throw Error(plans_json, "foreground_intensity_properties_per_channel key \"" + ch + "\" is not a channel index");
      }
      p.foreground_intensity_properties_per_channel[idx] = ip;
    }
  }

  const ojson cfg = resolveConfiguration(r.need(plans, "configurations", ""), configuration, plans_json, {});
  p.configuration = configuration;
  p.configuration_json = nlohmann::json::parse(cfg.dump());
  const std::string where = " in configuration \"" + configuration + "\"";
  p.patch_size = r.as<std::vector<int>>(r.need(cfg, "patch_size", where), "patch_size");
  p.spacing = r.as<std::vector<double>>(r.need(cfg, "spacing", where), "spacing");
  p.normalization_schemes = r.as<std::vector<std::string>>(r.need(cfg, "normalization_schemes", where), "normalization_schemes");
  p.use_mask_for_norm = r.as<std::vector<bool>>(r.need(cfg, "use_mask_for_norm", where), "use_mask_for_norm");
  auto resampling = [&](const std::string& base) {
    ResamplingSpec s;
    s.function = r.as<std::string>(r.need(cfg, base, where), base);
    if (cfg.contains(base + "_kwargs")) s.kwargs = nlohmann::json::parse(cfg.at(base + "_kwargs").dump());
    return s;
  };
  p.resampling_data = resampling("resampling_fn_data");
  p.resampling_seg = resampling("resampling_fn_seg");
  p.resampling_probabilities = resampling("resampling_fn_probabilities");
  const ojson arch = cfg.contains("architecture") ? cfg.at("architecture") : convertLegacyArchitecture(cfg, r);
  p.architecture = parseArchitecture(arch, r, plans_json);
  if (static_cast<int>(p.patch_size.size()) != p.architecture.dims)
    throw Error(plans_json, "patch_size has " + std::to_string(p.patch_size.size()) + " axes but conv_op is " +
                                std::to_string(p.architecture.dims) + "D");

  const ojson ds = readJson(dataset_json);
  const Reader d(dataset_json);
  const ojson& channels = ds.contains("channel_names") ? ds.at("channel_names") : d.need(ds, "modality", "");
  std::map<int, std::string> by_index;
  for (const auto& [k, v] : channels.items()) {
    try {
      by_index[std::stoi(k)] = v.get<std::string>();
    } catch (const std::exception&) {
      throw Error(dataset_json, "channel_names key \"" + k + "\" is not a channel index");
    }
  }
  for (int i = 0; i < static_cast<int>(by_index.size()); ++i) {
    if (!by_index.count(i)) throw Error(dataset_json, "channel_names lacks channel " + std::to_string(i));
    p.channel_names.push_back(by_index[i]);
  }
  for (const auto& [name, v] : d.need(ds, "labels", "").items()) {
    LabelEntry e{name, {}};
    if (v.is_array()) {
      e.values = d.as<std::vector<int>>(v, "labels." + name);
      std::set<int> u(e.values.begin(), e.values.end());
      if (u.size() > 1) p.has_regions = true;
    } else {
      e.values.push_back(d.as<int>(v, "labels." + name));
    }
    p.labels.push_back(e);
  }
  if (std::none_of(p.labels.begin(), p.labels.end(), [](const LabelEntry& l) { return l.name == "background"; }))
    throw Error(dataset_json, "labels declare no \"background\"");
  if (ds.contains("regions_class_order") && !ds.at("regions_class_order").is_null())
    p.regions_class_order = d.as<std::vector<int>>(ds.at("regions_class_order"), "regions_class_order");
  if (p.has_regions && p.regions_class_order.empty())
    throw Error(dataset_json, "region-based labels need \"regions_class_order\"");
  if (ds.contains("file_ending")) p.file_ending = d.as<std::string>(ds.at("file_ending"), "file_ending");
  if (p.normalization_schemes.size() != p.channel_names.size())
    throw Error(plans_json, "normalization_schemes has " + std::to_string(p.normalization_schemes.size()) +
                                " entries but dataset.json has " + std::to_string(p.channel_names.size()) + " channels");
  return p;
}

}  // namespace ctd::nn
