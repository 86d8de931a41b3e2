#pragma once
// Mask-driven rewrite of a CT series: every output file is its source with only
// PixelData changed (and only under the mask). See README "What changes in the output".
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dicom/CaseInventory.h"
#include "volume/Volume.h"

namespace ctd {

struct RewriteOptions {
  std::filesystem::path out_root;  // output file = out_root / instance.relative
  double fill_hu = -1000.0;        // HU written into masked voxels
  bool new_uids = false;           // new SOP/Series instance UIDs (file meta too)
  bool mark_defaced = false;       // ImageType DERIVED\SECONDARY, derivation + de-identification elements
  std::string derivation_description;  // DerivationDescription under mark_defaced; empty: names fill_hu
};

struct FileOutcome {
  std::filesystem::path source, output;
  std::string transfer_syntax_in, transfer_syntax_out;
  std::size_t changed_voxels = 0;
  std::string note;  // e.g. "re-encoded JPEG-LS lossless", "lossy source written as Explicit VR Little Endian"
};

struct RewriteResult {
  std::vector<FileOutcome> files;
  std::size_t changed_voxels = 0;
  std::vector<std::string> not_covered;  // file names of slices the mask/NIfTI did not cover
};

class StagedCopies;

// `mask` is on the grid of loadVolume(inv, stack). All files are written to a
// staging folder first and moved into place only when the whole series succeeded;
// on any error nothing of the series is left under out_root and ctd::Error is thrown.
// `copies` (optional): the series' files already being copied into its staging folder.
RewriteResult rewriteSeries(const CaseInventory& inv, const SeriesStack& stack, const VoxelMask& mask,
                            const RewriteOptions& opt, StagedCopies* copies = nullptr);

// Without header edits (--new-uids, --mark-defaced) every output file starts
// as a byte copy of its source: files outside the face stay exactly that, and
// uncompressed ones with face voxels are patched in place. StagedCopies makes
// those copies into the series' staging folder on a background thread, and
// starts their write-back to disk, while the series is still being segmented;
// rewriteSeries then waits for them and only patches and verifies what
// changes. Nothing reaches a final path before rewriteSeries commits, and a
// StagedCopies that is never used (the series failed) removes its folder.
// With header edits requested it does nothing.
class StagedCopies {
 public:
  StagedCopies(const CaseInventory& inv, const SeriesStack& stack, const RewriteOptions& opt);
  ~StagedCopies();
  StagedCopies(const StagedCopies&) = delete;
  StagedCopies& operator=(const StagedCopies&) = delete;

 private:
  friend struct StagedCopiesAccess;
  struct State;
  std::unique_ptr<State> state_;
};

// The general form behind rewriteSeries and nifti2dicom: `source(j, k, row)`
// fills row[0..nx) with the HU wanted at voxels (i, j, k) of the stack's native
// grid, NaN where the stored value must stay as it is. A voxel whose wanted HU
// maps to its current stored value is left untouched (and not counted).
// Files are processed by two threads: `source` may be called concurrently.
using HuRowSource = std::function<void(std::size_t j, std::size_t k, float* row)>;
RewriteResult rewriteSeriesFrom(const CaseInventory& inv, const SeriesStack& stack, const HuRowSource& source,
                                const RewriteOptions& opt);

}  // namespace ctd
