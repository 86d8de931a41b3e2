// Broken nnU-Net model folders (--model PATH): a corrupt checkpoint, a plans
// file that does not match the weights, a fold that is not there. The model is
// checked before any case is read: a usage error (exit 2) on one line naming
// the file, nothing written, the input unchanged.
#include <fstream>
#include <nlohmann/json.hpp>

#include "BadInputFixture.h"
#include "DicomEdits.h"
#include "support/TreeSnapshot.h"

namespace ctd::test {
namespace {

// A tiny trained-format results folder (random weights, saved by nnUNetTrainer; helper nn's fixture).
const fs::path kModel = fs::path(CTD_SOURCE_DIR) / "tests/fixtures/nn/plain3d/nnUNetTrainer__nnUNetPlans__3d_fullres";

class BadModel : public BadInput {
 protected:
  void SetUp() override {
    BadInput::SetUp();
    if (!fs::exists(kModel / "plans.json")) GTEST_SKIP() << "no model fixture at " << kModel;
    model_ = scratch_ / "model";
    fs::copy(kModel, model_, fs::copy_options::recursive);
  }

  // Runs with --model and checks the refusal; returns the output.
  std::string expectRefused(const std::vector<std::string>& extra, const std::string& names) {
    const auto before = snapshotTree(root_);
    std::vector<std::string> args{CTD_CLI, "-i", root_.string(), "-o", out_.string(), "--no-qc", "--model",
                                  model_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const ChildResult r = runChild(args, {.timeout_seconds = 60});
    EXPECT_EQ(r.exit_code, 2) << r.describe() << "\n" << r.output;
    EXPECT_NE(r.output.find(names), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find('\n'), r.output.size() - 1) << "not one line: " << r.output;
    EXPECT_FALSE(fs::exists(out_)) << "something was written";
    EXPECT_EQ(before, snapshotTree(root_));
    return r.output;
  }

  fs::path model_;
};

TEST_F(BadModel, TruncatedCheckpoint) {
  const fs::path ckpt = model_ / "fold_0" / "checkpoint_final.pth";
  writeFileBytes(ckpt, fileBytes(ckpt).substr(0, 2000));
  expectRefused({}, ckpt.string());
}

TEST_F(BadModel, CheckpointWithOverwrittenBytes) {
  // A quarter of the file overwritten (a bad copy): the reader must notice,
  // not load garbage weights.
  const fs::path ckpt = model_ / "fold_0" / "checkpoint_final.pth";
  std::string b = fileBytes(ckpt);
  for (std::size_t i = b.size() / 4; i < b.size() / 2; ++i) b[i] = static_cast<char>(b[i] ^ 0x5A);
  writeFileBytes(ckpt, b);
  expectRefused({}, ckpt.string());
}

TEST_F(BadModel, PlansThatDoNotMatchTheWeights) {
  nlohmann::json plans = nlohmann::json::parse(std::ifstream(model_ / "plans.json"));
  auto& kwargs = plans["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"];
  ASSERT_TRUE(kwargs.contains("features_per_stage"));
  for (auto& f : kwargs["features_per_stage"]) f = f.get<int>() + 2;
  std::ofstream(model_ / "plans.json") << plans.dump(1);
  const std::string out = expectRefused({}, "checkpoint_final.pth");
  EXPECT_NE(out.find("plans"), std::string::npos) << out;
}

TEST_F(BadModel, RequestedFoldIsMissing) {
  const std::string out = expectRefused({"--folds", "3"}, model_.string());
  EXPECT_NE(out.find("3"), std::string::npos) << out;
}

TEST_F(BadModel, NoFoldAtAll) {
  fs::remove_all(model_ / "fold_0");
  expectRefused({}, model_.string());
}

}  // namespace
}  // namespace ctd::test
