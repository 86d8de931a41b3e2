#pragma once
// The main job: every case under the input, every CT series in it:
// DICOM -> Volume -> face mask -> blend -> DICOM (+ optional NIfTI copies) -> report.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dicom/CaseDiscovery.h"
#include "pipeline/Report.h"
#include "segment/FaceSegmenter.h"

namespace ctd {

struct DefaceOptions {
  std::filesystem::path input, output;
  std::filesystem::path nifti_out;  // empty: no NIfTI copies
  std::filesystem::path work_root;  // empty: OUT/.ctdeface-work (see src/batch/CaseWork.h)
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
  // --roi: "all" predicts the whole image (exact nnU-Net); "face" only nnU-Net's tiles that overlap
  // the geometric face region widened by roi_margin_mm (see segment/nnunet/FaceRegion.h).
  std::string roi = "all";
  double roi_margin_mm = 40;
  // Quality control (src/qc): skin renders before/after, the face detector and
  // OUT/qc/index.html. With `verify`, a series whose defaced render still shows
  // a face fails closed. --no-qc turns both off (verify needs the renders).
  bool qc = true;
  bool verify = true;
  // --qc-out: where the gallery and its renders go (empty: OUT/qc). The "before"
  // renders show the original faces, so a curator may keep them out of OUT.
  std::filesystem::path qc_out;
  // Thread budget (--threads, 0 = every core this process may use). The batch
  // (src/batch) splits it between the cases it runs at once and hands each case
  // a copy of these options with `threads` = that case's share: segmenters,
  // ITK and the slice loops take their thread count from it.
  int threads = 0;
  // Batch (src/batch): cases at once, redo finished cases, job-array shard I/N (1-based; 0/0: none).
  int jobs = 1;
  bool force = false;
  int shard_index = 0, shard_count = 0;
};

// The options that change what is written, as one JSON object: a case finished
// under other values is redone on resume. An option that changes the output must be listed here.
std::string outputAffectingOptions(const DefaceOptions& opt);

// The QC gallery's folder: --qc-out, else OUT/qc.
std::filesystem::path qcRoot(const DefaceOptions& opt);

// Builds the segmenter named by `model`; throws ctd::Error with a one-line
// explanation when it cannot (unknown or missing model).
std::unique_ptr<FaceSegmenter> makeSegmenter(const DefaceOptions& opt);

// Checks the input/output pair before anything is written (input exists,
// output not inside input and not the input). Throws ctd::Error.
void checkInputOutput(const std::filesystem::path& input, const std::filesystem::path& output);
// The work root (-w) must not be the input or inside it: inputs are never written. Throws ctd::Error.
void checkWorkRoot(const std::filesystem::path& input, const std::filesystem::path& work_root);
// The same for --qc-out (empty: nothing to check).
void checkQcOut(const std::filesystem::path& input, const std::filesystem::path& qc_out);

// One case: every CT series in it, then its other files. Never throws for a
// problem of the case or of a series: those become its report rows. `work_dir`
// (may be empty) receives the case's intermediates (with opt.keep_work: each
// series' face mask as NIfTI).
// `walk_skipped`: what discovery could not read below the case root (broken
// links, unreadable entries): a series beside one of them fails, as for a corrupt file.
CaseReport defaceCase(const CaseInput& c, bool single_case, const DefaceOptions& opt, FaceSegmenter& segmenter,
                      const std::filesystem::path& work_dir = {}, const std::vector<SetAside>& walk_skipped = {});

// Once per run, after every case, with the final report (the batch calls it on
// rank 0 / each shard): run-level outputs such as the QC gallery go here.
void finishRun(const DefaceOptions& opt, const RunReport& report);

// The entries of `skipped` that lie below `root`.
std::vector<SetAside> skippedBelow(const std::vector<SetAside>& skipped, const std::filesystem::path& root);

// Where a case's DICOM output goes: OUT itself for a single case, OUT/<case> otherwise.
std::filesystem::path caseOutputRoot(const CaseInput& c, bool single_case, const DefaceOptions& opt);
// The case's label in logs, reports and state records.
std::string caseLabel(const CaseInput& c);

// Runs every case one after the other in this process (the batch in src/batch
// adds -j, resume, shards and MPI); the report is saved into opt.output. Never
// throws for a problem with one case or series: those become report rows.
RunReport runDeface(const DefaceOptions& opt);
// The same with a segmenter given by the caller (tests inject deliberately
// broken ones to check that --verify fails their series closed).
RunReport runDeface(const DefaceOptions& opt, FaceSegmenter& segmenter);

}  // namespace ctd
