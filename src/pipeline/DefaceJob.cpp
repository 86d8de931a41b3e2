#include "pipeline/DefaceJob.h"

#include <chrono>
#include <iomanip>
#include <sstream>

#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/MemoryBudget.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "pipeline/HuCalibration.h"
#include "pipeline/Log.h"
#include "pipeline/Version.h"
#include "segment/Blend.h"
#include "segment/GeometricSegmenter.h"
#include "segment/nnunet/ModelStore.h"
#include "segment/nnunet/NnunetSegmenter.h"
#include "volume/NiftiIO.h"
#include "write/OtherFiles.h"
#include "write/SeriesRewriter.h"

namespace fs = std::filesystem;

namespace ctd {

std::unique_ptr<FaceSegmenter> makeSegmenter(const DefaceOptions& opt) {
  if (opt.model == "geometric") {
    GeometricOptions g;
    if (opt.brain_margin_mm >= 0) g.brain_margin_mm = opt.brain_margin_mm;
    g.remove_ears = opt.remove_ears;
    return std::make_unique<GeometricSegmenter>(g);
  }
  // Anything else is an nnU-Net model: an installed name (cta-deface) or a results folder.
  nnunet::PredictorOptions po;
  po.step_size = opt.step_size;
  po.tta = opt.tta;
  po.folds = opt.folds;
  po.bf16 = opt.bf16;
  const nnunet::ModelStore store(nnunet::ModelStore::defaultHome());
  return std::make_unique<nnunet::NnunetSegmenter>(store.resolve(opt.model), po, opt.model);
}

void checkInputOutput(const fs::path& input, const fs::path& output) {
  if (!fs::exists(input)) throw Error(input, "input does not exist");
  if (!fs::is_directory(input)) throw Error(input, "input is not a folder");
  const fs::path in = fs::weakly_canonical(input);
  const fs::path out = fs::weakly_canonical(output);
  if (in == out) throw Error(output, "output folder is the input folder");
  // Output inside the input would be read back as input on the next run.
  auto rel = out.lexically_relative(in);
  if (!rel.empty() && *rel.begin() != "..") throw Error(output, "output folder is inside the input folder");
  auto rel2 = in.lexically_relative(out);
  if (!rel2.empty() && *rel2.begin() != "..") throw Error(output, "input folder is inside the output folder");
  // Another tool's output folder is refused: ctdeface would mix its series into
  // it and could replace a file at a mirrored path. Its own earlier output (a
  // report, run state, work folder) is not: re-runs resume there.
  std::error_code ec;
  if (fs::is_directory(output, ec) && !fs::is_empty(output, ec)) {
    bool ours = false;
    for (const auto& e : fs::directory_iterator(output, ec))
      ours = ours || e.path().filename().string().rfind("ctdeface-report", 0) == 0 ||
             e.path().filename().string().rfind(".ctdeface-", 0) == 0;
    if (!ours)
      throw Error(output, "output folder is not empty and holds no earlier ctdeface run (no ctdeface-report.json): "
                          "give an empty or new folder");
  }
}

namespace {

std::string describeGeometryLine(const CaseInventory& inv) {
  std::ostringstream s;
  s << inv.instances.size() << " DICOM files, " << inv.stacks.size() << " CT series, " << inv.set_aside.size()
    << " set aside, " << inv.skipped.size() << " not DICOM";
  return s.str();
}

struct SeriesContext {
  const DefaceOptions& opt;
  FaceSegmenter& segmenter;
  const FillSpec& fill;
  fs::path case_out;    // DICOM output root of the case
  fs::path nifti_case;  // NIfTI output folder of the case (empty: none)
};

SeriesRow processSeries(const CaseInventory& inv, const SeriesStack& stack, SeriesContext& ctx) {
  SeriesRow row;
  row.case_name = inv.name;
  row.series_uid = stack.series_uid;
  row.series_name = stack.name;
  row.description = stack.description;
  row.files_in = stack.slices.size();
  row.model = ctx.segmenter.name();
  row.warnings = stack.warnings;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<fs::path> nifti_written;
  try {
    // From the headers, before a pixel is read: refused, not swapped or OOM-killed.
    if (ctx.opt.max_memory) checkSeriesMemory(inv, stack, ctx.opt.max_memory);
    Volume vol = loadVolume(inv, stack);
    const HuCalibration cal = checkHuCalibration(vol, ctx.opt.hu_offset);
    if (cal.offset != 0) {
      for (float& x : vol.hu) x -= static_cast<float>(cal.offset);
      row.warnings.push_back(cal.note);
      log::warn(stack.name + ": " + cal.note);
    }
    const auto ts = std::chrono::steady_clock::now();
    FaceSegmentation seg = ctx.segmenter.segment(vol);
    row.segment_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    row.fill_hu = fillValueHu(vol, ctx.fill);
    row.voxels_removed = seg.mask.count();
    if (!seg.note.empty()) log::detail(stack.name + ": " + seg.note);

    if (!ctx.nifti_case.empty()) {
      // The volume's original HU are no longer needed (the DICOM rewrite starts
      // from each file's stored values), so blend in place instead of copying.
      applyMask(vol, seg.mask, row.fill_hu);
      const fs::path img = ctx.nifti_case / (stack.name + ".nii.gz");
      const fs::path msk = ctx.nifti_case / (stack.name + "_mask.nii.gz");
      fs::create_directories(ctx.nifti_case);
      nifti_written = {img, msk};
      if (writeNifti(vol, img)) row.warnings.push_back("NIfTI resampled onto a regular grid (tilted or uneven stack)");
      writeNiftiMask(seg.mask, vol, msk);
    }
    // The rewrite works from the files' stored values and the mask alone: free the
    // HU volume first so the peak memory is the read/segment step, not the sum.
    vol = Volume{};

    RewriteOptions ro;
    ro.out_root = ctx.case_out;
    ro.fill_hu = row.fill_hu + cal.offset;  // in the file's own (header) HU
    ro.new_uids = ctx.opt.new_uids;
    ro.mark_defaced = ctx.opt.mark_defaced;
    RewriteResult rr = rewriteSeries(inv, stack, seg.mask, ro);
    row.files_out = rr.files.size();
    for (const auto& f : rr.files)
      if (!f.note.empty()) row.transfer_syntax_notes.push_back(f.source.filename().string() + ": " + f.note);
    for (const auto& nc : rr.not_covered) row.warnings.push_back("not defaced: " + nc);
    row.status = !rr.not_covered.empty() ? SeriesStatus::Partial
                 : seg.face_in_view      ? SeriesStatus::Defaced
                                         : SeriesStatus::NoFaceInView;
  } catch (const std::exception& e) {
    // Fail closed: nothing of a failed series stays in the output.
    for (const auto& p : nifti_written) fs::remove(p);
    row.status = SeriesStatus::Failed;
    row.error = e.what();
    row.files_out = 0;
  }
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return row;
}

void processCase(const CaseInput& c, bool single_case, const DefaceOptions& opt, FaceSegmenter& segmenter,
                 const FillSpec& fill, RunReport& report) {
  const std::string label = c.name.empty() ? c.root.filename().string() : c.name;
  CaseInventory inv;
  try {
    inv = assembleCase(c);
  } catch (const std::exception& e) {
    report.case_errors.push_back(label + ": " + e.what());
    log::error(label + ": " + e.what());
    return;
  }
  if (inv.name.empty()) inv.name = label;
  log::info("case " + label + ": " + describeGeometryLine(inv));
  SeriesContext ctx{opt, segmenter, fill, single_case ? opt.output : opt.output / c.name,
                    opt.nifti_out.empty() ? fs::path() : opt.nifti_out / label};

  for (const auto& stack : inv.stacks) {
    for (const auto& w : stack.warnings) log::detail(stack.name + ": " + w);
    SeriesRow row = processSeries(inv, stack, ctx);
    std::ostringstream line;
    line << "  " << stack.name << " (" << row.files_in << " files): " << toString(row.status);
    if (row.status == SeriesStatus::Failed) line << ": " << row.error;
    else line << ", " << row.voxels_removed << " voxels removed, " << std::fixed << std::setprecision(2) << row.seconds << " s";
    if (row.status == SeriesStatus::Failed) log::error(line.str().substr(2));
    else log::info(line.str());
    report.series.push_back(std::move(row));
  }

  // Everything else of the case: set aside (localizers, secondary captures, non-image
  // objects) or not DICOM. Not copied unless asked, since a lateral localizer shows
  // the face profile and screenshots can carry burned-in text.
  std::vector<OtherFile> others = otherFilesOf(inv);
  if (opt.copy_other) copyOtherFiles(others, ctx.case_out);
  for (const auto& o : others) {
    const bool copied = opt.copy_other && o.copyable;
    FileRow fr{label, o.relative, o.reason, copied};
    log::detail("  " + o.relative.string() + ": " + o.reason + (copied ? " (copied)" : " (not written)"));
    report.other_files.push_back(std::move(fr));
  }
}

}  // namespace

RunReport runDeface(const DefaceOptions& opt) {
  auto segmenter = makeSegmenter(opt);
  const FillSpec fill = parseFillSpec(opt.fill);
  RunReport report;
  report.tool_version = kVersion;
  report.input = opt.input;
  report.output = opt.output;
  fs::create_directories(opt.output);

  Discovery d = discoverCases(opt.input);
  log::info(std::string(d.single_case ? "one case" : std::to_string(d.cases.size()) + " cases") + " under " +
            opt.input.string());
  for (const auto& s : d.skipped) report.other_files.push_back({"", s.path, s.reason, false});
  for (const auto& c : d.cases) processCase(c, d.single_case, opt, *segmenter, fill, report);
  report.save(opt.output);
  return report;
}

}  // namespace ctd
