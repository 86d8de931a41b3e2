// plans.json / dataset.json in both layouts nnU-Net has written: the >= 2.4 `architecture` block and the
// older UNet_class_name keys, which must resolve to the same architecture.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "core/Error.h"
#include "nn/ModelFolder.h"
#include "nn/NnunetPlans.h"

namespace ctd::nn {
namespace {

namespace fs = std::filesystem;
const fs::path kFixtures = fs::path(CTD_SOURCE_DIR) / "tests/fixtures/nn";

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("ctd-nn-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path path_;
};

// A 3d_fullres configuration as nnU-Net 2.4+ writes it, plus a 3d_lowres and a cascade inheriting from it.
const char* kNewPlans = R"({
  "dataset_name": "Dataset001_DEFACE", "plans_name": "nnUNetPlans",
  "original_median_spacing_after_transp": [2.5, 0.48, 0.48],
  "image_reader_writer": "SimpleITKIO",
  "transpose_forward": [0, 2, 1], "transpose_backward": [0, 2, 1],
  "configurations": {
    "3d_fullres": {
      "data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
      "patch_size": [64, 160, 160], "median_image_size_in_voxels": [120, 512, 512], "spacing": [2.5, 0.48, 0.48],
      "normalization_schemes": ["CTNormalization"], "use_mask_for_norm": [false],
      "resampling_fn_data": "resample_data_or_seg_to_shape",
      "resampling_fn_seg": "resample_data_or_seg_to_shape",
      "resampling_fn_data_kwargs": {"is_seg": false, "order": 3, "order_z": 0, "force_separate_z": null},
      "resampling_fn_seg_kwargs": {"is_seg": true, "order": 1, "order_z": 0, "force_separate_z": null},
      "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
      "resampling_fn_probabilities_kwargs": {"is_seg": false, "order": 1, "order_z": 0, "force_separate_z": null},
      "architecture": {
        "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
        "arch_kwargs": {
          "n_stages": 3, "features_per_stage": [32, 64, 128],
          "conv_op": "torch.nn.modules.conv.Conv3d",
          "kernel_sizes": [[1, 3, 3], [3, 3, 3], [3, 3, 3]],
          "strides": [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
          "n_conv_per_stage": [2, 2, 2], "n_conv_per_stage_decoder": [2, 2], "conv_bias": true,
          "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d", "norm_op_kwargs": {"eps": 1e-05, "affine": true},
          "dropout_op": null, "dropout_op_kwargs": null,
          "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": true}
        },
        "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"]
      },
      "batch_dice": false
    },
    "3d_lowres": {"inherits_from": "3d_fullres", "spacing": [5.0, 0.96, 0.96], "data_identifier": "nnUNetPlans_3d_lowres"},
    "3d_cascade_fullres": {"inherits_from": "3d_lowres", "previous_stage": "3d_lowres"},
    "loop_a": {"inherits_from": "loop_b"}, "loop_b": {"inherits_from": "loop_a"}
  },
  "experiment_planner_used": "ExperimentPlanner", "label_manager": "LabelManager",
  "foreground_intensity_properties_per_channel": {"0": {"max": 3071.0, "mean": 86.5, "median": 62.0, "min": -1024.0,
    "percentile_00_5": -816.0, "percentile_99_5": 1401.0, "std": 241.25}}
})";

// The same configuration as nnU-Net < 2.4 wrote it.
const char* kOldPlans = R"({
  "dataset_name": "Dataset001_DEFACE", "plans_name": "nnUNetPlans",
  "transpose_forward": [0, 2, 1], "transpose_backward": [0, 2, 1],
  "configurations": {
    "3d_fullres": {
      "data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
      "patch_size": [64, 160, 160], "median_image_size_in_voxels": [120, 512, 512], "spacing": [2.5, 0.48, 0.48],
      "normalization_schemes": ["CTNormalization"], "use_mask_for_norm": [false],
      "UNet_class_name": "PlainConvUNet", "UNet_base_num_features": 32,
      "n_conv_per_stage_encoder": [2, 2, 2], "n_conv_per_stage_decoder": [2, 2],
      "num_pool_per_axis": [1, 2, 2], "pool_op_kernel_sizes": [[1, 1, 1], [1, 2, 2], [2, 2, 2]],
      "conv_kernel_sizes": [[1, 3, 3], [3, 3, 3], [3, 3, 3]], "unet_max_num_features": 320,
      "resampling_fn_data": "resample_data_or_seg_to_shape",
      "resampling_fn_seg": "resample_data_or_seg_to_shape",
      "resampling_fn_data_kwargs": {"is_seg": false, "order": 3, "order_z": 0, "force_separate_z": null},
      "resampling_fn_seg_kwargs": {"is_seg": true, "order": 1, "order_z": 0, "force_separate_z": null},
      "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
      "resampling_fn_probabilities_kwargs": {"is_seg": false, "order": 1, "order_z": 0, "force_separate_z": null},
      "batch_dice": false
    }
  },
  "foreground_intensity_properties_per_channel": {"0": {"max": 3071.0, "mean": 86.5, "median": 62.0, "min": -1024.0,
    "percentile_00_5": -816.0, "percentile_99_5": 1401.0, "std": 241.25}}
})";

const char* kDataset = R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "face": 1},
  "numTraining": 45, "file_ending": ".nii.gz"})";

TEST(NnunetPlans, NewLayout) {
  TempDir d;
  const auto p = loadPlans(d.write("plans.json", kNewPlans), d.write("dataset.json", kDataset), "3d_fullres");
  EXPECT_EQ(p.dataset_name, "Dataset001_DEFACE");
  EXPECT_EQ(p.transpose_forward, (std::vector<int>{0, 2, 1}));
  EXPECT_EQ(p.patch_size, (std::vector<int>{64, 160, 160}));
  EXPECT_EQ(p.spacing, (std::vector<double>{2.5, 0.48, 0.48}));
  EXPECT_EQ(p.normalization_schemes, (std::vector<std::string>{"CTNormalization"}));
  EXPECT_EQ(p.use_mask_for_norm, (std::vector<bool>{false}));
  ASSERT_EQ(p.foreground_intensity_properties_per_channel.count(0), 1u);
  const auto& ip = p.foreground_intensity_properties_per_channel.at(0);
  EXPECT_DOUBLE_EQ(ip.percentile_00_5, -816.0);
  EXPECT_DOUBLE_EQ(ip.percentile_99_5, 1401.0);
  EXPECT_DOUBLE_EQ(ip.mean, 86.5);
  EXPECT_DOUBLE_EQ(ip.std, 241.25);
  EXPECT_EQ(p.resampling_data.function, "resample_data_or_seg_to_shape");
  EXPECT_EQ(p.resampling_data.kwargs.at("order"), 3);
  EXPECT_TRUE(p.resampling_data.kwargs.at("force_separate_z").is_null());
  EXPECT_EQ(p.resampling_probabilities.kwargs.at("order"), 1);
  EXPECT_EQ(p.resampling_seg.kwargs.at("is_seg"), true);
  const auto& a = p.architecture;
  EXPECT_EQ(a.kind, ArchitectureKind::PlainConvUNet);
  EXPECT_EQ(a.dims, 3);
  EXPECT_EQ(a.n_stages, 3);
  EXPECT_EQ(a.features_per_stage, (std::vector<int>{32, 64, 128}));
  EXPECT_EQ(a.kernel_sizes[0], (std::vector<int>{1, 3, 3}));
  EXPECT_EQ(a.strides[1], (std::vector<int>{1, 2, 2}));
  EXPECT_EQ(a.n_conv_per_stage_decoder, (std::vector<int>{2, 2}));
  EXPECT_DOUBLE_EQ(a.norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(a.nonlin_negative_slope, 0.01);  // LeakyReLU's default when nonlin_kwargs has none
  EXPECT_EQ(p.channel_names, (std::vector<std::string>{"CT"}));
  ASSERT_EQ(p.labels.size(), 2u);
  EXPECT_EQ(p.labels[1].name, "face");
  EXPECT_EQ(p.numSegmentationHeads(), 2);
  EXPECT_EQ(p.file_ending, ".nii.gz");
}

TEST(NnunetPlans, OldLayoutGivesTheSameArchitecture) {
  TempDir d;
  const auto ds = d.write("dataset.json", kDataset);
  const auto a = loadPlans(d.write("new.json", kNewPlans), ds, "3d_fullres").architecture;
  const auto b = loadPlans(d.write("old.json", kOldPlans), ds, "3d_fullres").architecture;
  EXPECT_EQ(b.network_class_name, "dynamic_network_architectures.architectures.unet.PlainConvUNet");
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.dims, b.dims);
  EXPECT_EQ(a.n_stages, b.n_stages);
  EXPECT_EQ(a.features_per_stage, b.features_per_stage);  // min(32 * 2^i, 320)
  EXPECT_EQ(a.kernel_sizes, b.kernel_sizes);
  EXPECT_EQ(a.strides, b.strides);
  EXPECT_EQ(a.n_conv_per_stage, b.n_conv_per_stage);
  EXPECT_EQ(a.n_conv_per_stage_decoder, b.n_conv_per_stage_decoder);
  EXPECT_EQ(a.conv_bias, b.conv_bias);
  EXPECT_EQ(a.norm_eps, b.norm_eps);
  EXPECT_EQ(a.nonlin_negative_slope, b.nonlin_negative_slope);
}

TEST(NnunetPlans, OldLayoutCapsFeatures) {
  TempDir d;
  std::string old = kOldPlans;
  old.replace(old.find("\"unet_max_num_features\": 320"), 28, "\"unet_max_num_features\": 48");
  const auto a = loadPlans(d.write("plans.json", old), d.write("dataset.json", kDataset), "3d_fullres").architecture;
  EXPECT_EQ(a.features_per_stage, (std::vector<int>{32, 48, 48}));
}

TEST(NnunetPlans, InheritsFromIsFollowed) {
  TempDir d;
  const auto p = loadPlans(d.write("plans.json", kNewPlans), d.write("dataset.json", kDataset), "3d_cascade_fullres");
  EXPECT_EQ(p.spacing, (std::vector<double>{5.0, 0.96, 0.96}));   // from 3d_lowres
  EXPECT_EQ(p.patch_size, (std::vector<int>{64, 160, 160}));      // from 3d_fullres
  EXPECT_EQ(p.configuration_json.at("data_identifier"), "nnUNetPlans_3d_lowres");
  EXPECT_EQ(p.architecture.features_per_stage, (std::vector<int>{32, 64, 128}));
}

TEST(NnunetPlans, FixtureModelsLoad) {
  const auto res = ModelFolder(kFixtures / "resenc3d/nnUNetTrainer__nnUNetPlans__3d_fullres").plans("3d_fullres");
  EXPECT_EQ(res.architecture.kind, ArchitectureKind::ResidualEncoderUNet);
  EXPECT_EQ(res.architecture.n_conv_per_stage, (std::vector<int>{1, 2, 2}));  // n_blocks_per_stage
  EXPECT_EQ(res.numInputChannels(), 2);
  EXPECT_EQ(res.normalization_schemes, (std::vector<std::string>{"CTNormalization", "ZScoreNormalization"}));
  EXPECT_EQ(res.numSegmentationHeads(), 3);
  const auto p2 = ModelFolder(kFixtures / "plain2d/nnUNetTrainer__nnUNetPlans__2d").plans("2d");  // old layout
  EXPECT_EQ(p2.architecture.dims, 2);
  EXPECT_EQ(p2.architecture.conv_op, "torch.nn.modules.conv.Conv2d");
  EXPECT_EQ(p2.architecture.features_per_stage, (std::vector<int>{4, 8, 16, 16}));
}

TEST(NnunetPlans, RegionsCountAsHeads) {
  TempDir d;
  const auto p = loadPlans(d.write("plans.json", kNewPlans),
                           d.write("dataset.json", R"({"channel_names": {"0": "CT"}, "file_ending": ".nii.gz",
                             "labels": {"background": 0, "whole": [1, 2], "core": 2}, "regions_class_order": [1, 2]})"),
                           "3d_fullres");
  EXPECT_TRUE(p.has_regions);
  EXPECT_EQ(p.numSegmentationHeads(), 2);
  EXPECT_EQ(p.labels[1].values, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.regions_class_order, (std::vector<int>{1, 2}));
}

void expectError(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(NnunetPlans, ClearErrors) {
  TempDir d;
  const auto plans = d.write("plans.json", kNewPlans);
  const auto ds = d.write("dataset.json", kDataset);
  expectError([&] { loadPlans(plans, ds, "2d"); }, "plans.json: no configuration \"2d\" (has: 3d_fullres, 3d_lowres");
  expectError([&] { loadPlans(plans, ds, "loop_a"); }, "plans.json: circular inherits_from");
  expectError([&] { loadPlans(d.path() / "nope.json", ds, "3d_fullres"); }, "nope.json: cannot open");
  expectError([&] { loadPlans(d.write("bad.json", "{\"configurations\": "), ds, "3d_fullres"); }, "bad.json: not valid JSON");
  std::string other = kNewPlans;
  other.replace(other.find("unet.PlainConvUNet"), 18, "primus.Primus");
  expectError([&] { loadPlans(d.write("primus.json", other), ds, "3d_fullres"); }, "unsupported network class");
  std::string no_kernel = kNewPlans;
  no_kernel.replace(no_kernel.find("\"kernel_sizes\""), 14, "\"kernel_sizes_x\"");
  expectError([&] { loadPlans(d.write("nok.json", no_kernel), ds, "3d_fullres"); }, "nok.json: missing \"kernel_sizes\"");
  expectError([&] { loadPlans(plans, d.write("nobg.json", R"({"channel_names": {"0": "CT"}, "labels": {"face": 1}})"), "3d_fullres"); },
              "nobg.json: labels declare no \"background\"");
}

TEST(ModelFolder, ListsAndChoosesFolds) {
  TempDir d;
  d.write("plans.json", kNewPlans);
  d.write("dataset.json", kDataset);
  for (const char* f : {"fold_0/checkpoint_final.pth", "fold_2/checkpoint_final.pth", "fold_10/checkpoint_final.pth",
                        "fold_all/checkpoint_final.pth", "fold_3/checkpoint_best.pth"})
    d.write(f, "x");
  const ModelFolder m(d.path());
  EXPECT_EQ(m.availableFolds(), (std::vector<std::string>{"0", "2", "10", "all"}));
  EXPECT_EQ(m.availableFolds("checkpoint_best.pth"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(m.chooseFolds({}), (std::vector<std::string>{"0", "2", "10"}));  // nnU-Net's auto-detection skips fold_all
  EXPECT_EQ(m.chooseFolds({"all"}), (std::vector<std::string>{"all"}));
  EXPECT_EQ(m.chooseFolds({"2", "0"}), (std::vector<std::string>{"2", "0"}));
  EXPECT_EQ(m.checkpointPath("all"), d.path() / "fold_all" / "checkpoint_final.pth");
  expectError([&] { m.chooseFolds({"1"}); }, "fold_1/checkpoint_final.pth does not exist (folds with checkpoint_final.pth: 0, 2, 10, all)");
  expectError([&] { m.chooseFolds({"best"}); }, "fold \"best\" is neither a number nor \"all\"");
}

TEST(ModelFolder, OnlyFoldAllIsTheDefault) {
  TempDir d;
  d.write("plans.json", kNewPlans);
  d.write("dataset.json", kDataset);
  d.write("fold_all/checkpoint_final.pth", "x");
  EXPECT_EQ(ModelFolder(d.path()).chooseFolds({}), (std::vector<std::string>{"all"}));
}

TEST(ModelFolder, ErrorsForIncompleteFolders) {
  TempDir d;
  expectError([&] { ModelFolder(d.path() / "missing"); }, "model folder does not exist");
  d.write("plans.json", kNewPlans);
  expectError([&] { ModelFolder{d.path()}; }, "dataset.json is missing");
  d.write("dataset.json", kDataset);
  expectError([&] { ModelFolder(d.path()).chooseFolds({}); }, "no fold_*/checkpoint_final.pth");
}

TEST(ModelFolder, ConfigurationFromName) {
  const ModelFolder m(kFixtures / "plain2d/nnUNetTrainer__nnUNetPlans__2d");
  EXPECT_EQ(m.configurationFromName(), "2d");
}

}  // namespace
}  // namespace ctd::nn
