#include <gtest/gtest.h>

#include <cmath>

#include "core/Error.h"
#include "nn/TorchCheckpoint.h"

namespace ctd::nn {
namespace {

const std::filesystem::path kCases = std::filesystem::path(CTD_SOURCE_DIR) / "tests/fixtures/nn/checkpoints";

// Expects readCheckpoint to throw a one-line ctd::Error that names the file and contains `needle`.
void expectError(const std::string& file, const std::string& needle) {
  const auto path = kCases / file;
  try {
    readCheckpoint(path);
    FAIL() << file << " was accepted";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(TorchCheckpoint, ReadsDtypesStridesAndOffsets) {
  const auto c = readCheckpoint(kCases / "dtypes.pth");
  ASSERT_EQ(c.network_weights.size(), 6u);
  EXPECT_EQ(c.network_weights[0].first, "contiguous");  // state_dict order is kept
  EXPECT_EQ(c.trainer_name, "nnUNetTrainerNoMirroring");
  EXPECT_FALSE(c.inference_allowed_mirroring_axes.has_value());

  const Tensor* t = c.find("transposed");  // arange(12).reshape(3, 4).t(): strides (1, 4)
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(t->data, (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));

  const Tensor* v = c.find("offset_view");  // arange(24)[5:9]
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->data, (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(c.find("contiguous")->data, (std::vector<float>{0, 1, 2, 3, 4, 5}));

  const Tensor* h = c.find("half");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->data, (std::vector<float>{1.5f, -2.25f, 65504.0f, std::ldexp(1.0f, -24), 0.0f}));  // incl. a subnormal

  const Tensor* b = c.find("bfloat16");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->data, (std::vector<float>{1.0f, -3.5f, std::ldexp(1.0f, 100), 0.15625f}));

  const Tensor* d = c.find("double");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->data, (std::vector<float>{0.1f, -7.0f}));
}

TEST(TorchCheckpoint, ReadsAnNnunetTrainerCheckpoint) {
  const auto path = std::filesystem::path(CTD_SOURCE_DIR) /
                    "tests/fixtures/nn/plain3d/nnUNetTrainer__nnUNetPlans__3d_fullres/fold_0/checkpoint_final.pth";
  const auto c = readCheckpoint(path);
  EXPECT_EQ(c.network_weights.size(), 136u);  // incl. the all_modules and decoder.encoder aliases
  EXPECT_EQ(c.trainer_name, "nnUNetTrainer");
  ASSERT_TRUE(c.inference_allowed_mirroring_axes.has_value());
  EXPECT_EQ(*c.inference_allowed_mirroring_axes, (std::vector<int>{0, 1, 2}));
  const Tensor* w = c.find("encoder.stages.0.0.convs.0.conv.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<std::int64_t>{16, 1, 1, 3, 3}));
  const Tensor* alias = c.find("encoder.stages.0.0.convs.0.all_modules.0.weight");
  ASSERT_NE(alias, nullptr);
  EXPECT_EQ(alias->data, w->data);
}

TEST(TorchCheckpoint, LegacyFormatIsRefused) { expectError("legacy.pth", "legacy (pre-1.6, non-zip)"); }
TEST(TorchCheckpoint, TruncatedZipIsRefused) { expectError("truncated.pth", "truncated or corrupted"); }
TEST(TorchCheckpoint, PickleThatEndsEarlyIsRefused) { expectError("pickle_ends_early.pth", "pickle ends early"); }
TEST(TorchCheckpoint, CorruptedPickleIsRefused) { expectError("pickle_bad_opcode.pth", "data.pkl"); }
TEST(TorchCheckpoint, MissingStorageIsRefused) { expectError("missing_storage.pth", "storage data/0 of tensor"); }
TEST(TorchCheckpoint, CorruptedStorageBytesAreRefused) { expectError("storage_crc.pth", "CRC"); }
TEST(TorchCheckpoint, PlainStateDictIsRefused) { expectError("not_nnunet.pth", "no network_weights"); }
TEST(TorchCheckpoint, MissingFileIsRefused) { expectError("does_not_exist.pth", "cannot open"); }

}  // namespace
}  // namespace ctd::nn
