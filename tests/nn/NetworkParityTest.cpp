// The oneDNN network against torch + dynamic_network_architectures on the fixtures of
// tests/oracle/make_network_fixtures.py: same weights, same input patch, logits within 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "NpyFile.h"
#include "core/Error.h"
#include "nn/ModelFolder.h"
#include "nn/Network.h"
#include "nn/OnednnUNet.h"

namespace ctd::nn {
namespace {

const std::filesystem::path kFixtures = std::filesystem::path(CTD_SOURCE_DIR) / "tests/fixtures/nn";

struct Fixture {
  std::string name, folder, configuration;
};
// gtest prints the parameter in test listings; the name says it all.
void PrintTo(const Fixture& f, std::ostream* os) { *os << f.name; }

struct Loaded {
  NnunetPlans plans;
  CheckpointContents checkpoint;
};

Loaded load(const Fixture& f) {
  const ModelFolder folder(kFixtures / f.name / f.folder);
  return {folder.plans(f.configuration), readCheckpoint(folder.checkpointPath("0"))};
}

float maxAbsDiff(const Tensor& a, const Tensor& b) {
  float m = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) m = std::max(m, std::abs(a.data[i] - b.data[i]));
  return m;
}

class NetworkParity : public ::testing::TestWithParam<Fixture> {};

TEST_P(NetworkParity, LogitsMatchTorch) {
  const Fixture& f = GetParam();
  const Loaded m = load(f);
  const Tensor x = test::readNpy(kFixtures / f.name / "input.npy");
  const Tensor expected = test::readNpy(kFixtures / f.name / "logits.npy");
  for (int threads : {1, 2}) {
    auto net = buildNetwork(m.plans, m.checkpoint, m.plans.numInputChannels(), m.plans.numSegmentationHeads(), {threads, false});
    EXPECT_EQ(net->inputChannels(), m.plans.numInputChannels());
    EXPECT_EQ(net->numClasses(), static_cast<int>(expected.dim(1)));
    EXPECT_EQ(net->dims(), m.plans.architecture.dims);
    const Tensor y = net->forward(x);
    ASSERT_EQ(y.shape, expected.shape);
    const float d = maxAbsDiff(y, expected);
    std::printf("[parity] %s threads=%d max|dlogit| = %.3g (block %d)\n", f.name.c_str(), threads, d,
                dynamic_cast<OnednnUNet&>(*net).channelBlock());
    EXPECT_LE(d, 1e-4f) << f.name;
    // A second call reuses the cached plan and must give the same answer.
    const Tensor again = net->forward(x);
    EXPECT_EQ(again.data, y.data);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, NetworkParity,
                         ::testing::Values(Fixture{"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"},
                                           Fixture{"resenc3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"},
                                           Fixture{"plain2d", "nnUNetTrainer__nnUNetPlans__2d", "2d"}),
                         [](const auto& info) { return info.param.name; });

TEST(Network, TwoPatchShapesShareTheWeights) {
  const Loaded m = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  auto net = buildNetwork(m.plans, m.checkpoint, 1, 2, {});
  const Tensor x = test::readNpy(kFixtures / "plain3d/input.npy");
  const Tensor expected = test::readNpy(kFixtures / "plain3d/logits.npy");
  Tensor small(std::vector<std::int64_t>{1, 1, 4, 8, 8});
  for (std::size_t i = 0; i < small.data.size(); ++i) small.data[i] = std::sin(static_cast<float>(i));
  EXPECT_EQ(net->forward(small).shape, (std::vector<std::int64_t>{1, 2, 4, 8, 8}));
  EXPECT_LE(maxAbsDiff(net->forward(x), expected), 1e-4f);
}

TEST(Network, RejectsInputsThatDoNotFit) {
  const Loaded m = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  auto net = buildNetwork(m.plans, m.checkpoint, 1, 2, {});
  EXPECT_THROW(net->forward(Tensor(std::vector<std::int64_t>{1, 1, 8, 24, 22})), Error);  // 22 is not a multiple of 4
  EXPECT_THROW(net->forward(Tensor(std::vector<std::int64_t>{1, 2, 8, 24, 24})), Error);  // two channels
  EXPECT_THROW(net->forward(Tensor(std::vector<std::int64_t>{1, 1, 24, 24})), Error);     // 2D
}

std::string mismatchMessage(const NnunetPlans& plans, const CheckpointContents& c, int in, int out) {
  try {
    buildNetwork(plans, c, in, out, {});
  } catch (const Error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Network, WrongShapeNamesTheTensorAndBothShapes) {
  Loaded m = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  m.plans.architecture.features_per_stage[1] = 12;
  const std::string msg = mismatchMessage(m.plans, m.checkpoint, 1, 2);
  EXPECT_NE(msg.find("encoder.stages.1.0.convs.0.conv.weight has shape [16, 16, 3, 3, 3] in the checkpoint but the plans need [12, 16, 3, 3, 3]"),
            std::string::npos)
      << msg;
}

TEST(Network, WrongClassCountIsAMismatch) {
  const Loaded m = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  const std::string msg = mismatchMessage(m.plans, m.checkpoint, 1, 3);
  EXPECT_NE(msg.find("decoder.seg_layers.1.weight has shape [2, 16, 1, 1, 1] in the checkpoint but the plans need [3, 16, 1, 1, 1]"),
            std::string::npos)
      << msg;
}

TEST(Network, MissingTensorIsNamed) {
  Loaded m = load({"resenc3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  auto& w = m.checkpoint.network_weights;
  w.erase(std::find_if(w.begin(), w.end(), [](const auto& p) { return p.first == "encoder.stages.1.blocks.0.skip.1.norm.bias"; }));
  const std::string msg = mismatchMessage(m.plans, m.checkpoint, 2, 3);
  EXPECT_NE(msg.find("encoder.stages.1.blocks.0.skip.1.norm.bias [8] is missing"), std::string::npos) << msg;
}

TEST(Network, ExtraTensorIsNamed) {
  // A checkpoint with a deeper encoder than the plans: the plans describe one stage less.
  Loaded m = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  m.checkpoint.network_weights.emplace_back("encoder.stages.3.0.convs.0.conv.weight", Tensor(std::vector<std::int64_t>{2, 2}));
  const std::string msg = mismatchMessage(m.plans, m.checkpoint, 1, 2);
  EXPECT_NE(msg.find("encoder.stages.3.0.convs.0.conv.weight [2, 2] in the checkpoint has no place"), std::string::npos) << msg;
}

TEST(Network, ArchitectureOfAnotherModelIsAMismatch) {
  const Loaded plain = load({"plain3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  const Loaded res = load({"resenc3d", "nnUNetTrainer__nnUNetPlans__3d_fullres", "3d_fullres"});
  const std::string msg = mismatchMessage(res.plans, plain.checkpoint, 1, 2);
  EXPECT_NE(msg.find("checkpoint does not match the plans: tensor encoder.stem.convs.0.conv.weight"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ctd::nn
