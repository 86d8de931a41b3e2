#pragma once
// The main job: every case under the input, every CT series in it:
// DICOM -> Volume -> face mask -> blend -> DICOM (+ optional NIfTI copies) -> report.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/Report.h"
#include "segment/FaceSegmenter.h"

namespace ctd {

struct DefaceOptions {
  std::filesystem::path input, output;
  std::filesystem::path nifti_out;  // empty: no NIfTI copies
  std::filesystem::path work_root;  // empty: a temporary folder
  std::string model = "geometric";  // geometric | cta-deface | path to an nnU-Net results folder
  std::string fill = "air";         // air | p10 | <HU value>
  double brain_margin_mm = -1;      // < 0: the segmenter's default
  bool remove_ears = false;
  bool copy_other = false;
  bool new_uids = false;
  bool mark_defaced = false;
  bool keep_work = false;
  std::optional<double> hu_offset;  // true HU = value - offset; unset: detected (see HuCalibration.h)
  std::uint64_t max_memory = 0;      // --max-memory: bytes one series may take (0: no limit; see dicom/MemoryBudget.h)
  // nnU-Net models (src/segment/nnunet): sliding-window step (fraction of the patch), mirroring
  // test-time augmentation, folds (empty: "all" if present, else every fold found).
  double step_size = 0.5;
  bool tta = false;
  std::vector<std::string> folds;
  bool bf16 = false;  // bfloat16 convolutions (AVX512-BF16), a measured speed option
};

// Builds the segmenter named by `model`; throws ctd::Error with a one-line
// explanation when it cannot (unknown or missing model).
std::unique_ptr<FaceSegmenter> makeSegmenter(const DefaceOptions& opt);

// Checks the input/output pair before anything is written (input exists,
// output not inside input and not the input). Throws ctd::Error.
void checkInputOutput(const std::filesystem::path& input, const std::filesystem::path& output);

// Runs the job; the report is saved into opt.output. Never throws for a
// problem with one case or series: those become report rows.
RunReport runDeface(const DefaceOptions& opt);

}  // namespace ctd
