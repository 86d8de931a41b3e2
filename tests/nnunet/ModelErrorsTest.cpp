// A broken model must fail with one clear line naming the file: corrupted checkpoint,
// plans/checkpoint mismatch, missing fold.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "NnunetFixtures.h"
#include "core/Error.h"
#include "segment/nnunet/NnunetPredictor.h"
#include "segment/nnunet/NnunetSegmenter.h"

using namespace ctd::nnunet;
using namespace ctd::nnunet::testing;
namespace fs = std::filesystem;

namespace {

struct TempModel {
  fs::path dir;
  explicit TempModel(const std::string& model) {
    dir = fs::temp_directory_path() / ("ctd-nnunet-err-" + std::to_string(::getpid()) + "-" + model + "-" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::copy(fixtureDir() / model, dir, fs::copy_options::recursive);
  }
  ~TempModel() { fs::remove_all(dir); }
};

std::string errorOf(const fs::path& folder, PredictorOptions o = {}) {
  try {
    NnunetPredictor p(folder, o);
  } catch (const ctd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ModelErrors, CorruptedCheckpointIsNamed) {
  TempModel m("plain3d");
  const fs::path ck = m.dir / "fold_all/checkpoint_final.pth";
  const auto size = fs::file_size(ck);
  fs::resize_file(ck, size / 2);  // a download cut short
  const std::string e = errorOf(m.dir);
  std::printf("truncated checkpoint: %s\n", e.c_str());
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("checkpoint_final.pth"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

TEST(ModelErrors, GarbageCheckpointIsNamed) {
  TempModel m("plain3d");
  std::ofstream(m.dir / "fold_all/checkpoint_final.pth", std::ios::trunc) << "this is not a checkpoint";
  const std::string e = errorOf(m.dir);
  std::printf("garbage checkpoint: %s\n", e.c_str());
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("checkpoint_final.pth"), std::string::npos) << e;
}

TEST(ModelErrors, PlansCheckpointMismatchIsNamed) {
  TempModel m("plain3d");
  auto plans = readJson(m.dir / "plans.json");
  plans["configurations"]["3d_fullres"]["architecture"]["arch_kwargs"]["features_per_stage"] = {4, 8, 16, 48};
  std::ofstream(m.dir / "plans.json", std::ios::trunc) << plans.dump(2);
  const std::string e = errorOf(m.dir);
  std::printf("plans/checkpoint mismatch: %s\n", e.c_str());
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("does not match plans.json"), std::string::npos) << e;
  EXPECT_NE(e.find("checkpoint_final.pth"), std::string::npos) << e;
}

TEST(ModelErrors, MissingFoldIsNamed) {
  PredictorOptions o;
  o.folds = {"0", "3"};
  const std::string e = errorOf(fixtureDir() / "ensemble2", o);
  std::printf("missing fold: %s\n", e.c_str());
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("fold_3"), std::string::npos) << e;
}

TEST(ModelErrors, DeletedFoldFolderIsNamed) {
  TempModel m("ensemble2");
  fs::remove_all(m.dir / "fold_1");
  PredictorOptions o;
  o.folds = {"0", "1"};
  const std::string e = errorOf(m.dir, o);
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("fold_1"), std::string::npos) << e;
}

TEST(ModelErrors, DefaultFoldsAreAllOrEveryFold) {
  EXPECT_EQ(NnunetPredictor(fixtureDir() / "plain3d", {}).folds(), (std::vector<std::string>{"all"}));
  EXPECT_EQ(NnunetPredictor(fixtureDir() / "ensemble2", {}).folds(), (std::vector<std::string>{"0", "1"}));
}

TEST(FaceLabel, NamedFaceCaseInsensitiveElseOne) {
  std::string note;
  EXPECT_EQ(findFaceLabel(NnunetPredictor(fixtureDir() / "plain3d", {}).plans(), note), 1);
  EXPECT_NE(note.find("'face'"), std::string::npos) << note;
  ctd::nn::NnunetPlans p;
  p.labels = {{"background", {0}}, {"skull", {1}}, {"FACE", {2}}};
  EXPECT_EQ(findFaceLabel(p, note), 2);
  p.labels = {{"background", {0}}, {"skin", {1}}};
  EXPECT_EQ(findFaceLabel(p, note), 1);
  EXPECT_NE(note.find("using label 1"), std::string::npos);
}
