#include "pipeline/DefaceJob.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/Error.h"
#include "core/TestKillPoint.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/MemoryBudget.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "pipeline/HuCalibration.h"
#include "pipeline/Log.h"
#include "pipeline/Version.h"
#include "qc/QcGallery.h"
#include "qc/SeriesQc.h"
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
  po.threads = opt.threads;
  po.bf16 = opt.bf16;
  const nnunet::ModelStore store(nnunet::ModelStore::defaultHome());
  nnunet::FaceRegionOptions region;
  if (opt.roi != "all" && opt.roi != "face") throw Error("--roi must be 'all' or 'face', not '" + opt.roi + "'");
  region.enabled = opt.roi == "face";
  region.margin_mm = opt.roi_margin_mm;
  return std::make_unique<nnunet::NnunetSegmenter>(store.resolve(opt.model), po, opt.model, region);
}

std::string outputAffectingOptions(const DefaceOptions& opt) {
  nlohmann::ordered_json j;
  j["version"] = kVersion;
  j["model"] = opt.model;
  j["fill"] = opt.fill;
  j["brain_margin_mm"] = opt.brain_margin_mm;
  j["remove_ears"] = opt.remove_ears;
  j["copy_other"] = opt.copy_other;
  j["new_uids"] = opt.new_uids;
  j["mark_defaced"] = opt.mark_defaced;
  j["verify"] = opt.qc && opt.verify;  // decides whether a series with a face left is written
  j["hu_offset"] = opt.hu_offset ? nlohmann::ordered_json(*opt.hu_offset) : nlohmann::ordered_json();
  j["nifti_root_out"] = opt.nifti_out.empty() ? std::string() : fs::absolute(opt.nifti_out).lexically_normal().string();
  j["step_size"] = opt.step_size;
  j["tta"] = opt.tta;
  j["folds"] = opt.folds;
  j["bf16"] = opt.bf16;
  j["roi"] = opt.roi;
  j["roi_margin_mm"] = opt.roi_margin_mm;
  j["qc"] = opt.qc;
  return j.dump();
}

fs::path caseOutputRoot(const CaseInput& c, bool single_case, const DefaceOptions& opt) {
  return single_case ? opt.output : opt.output / c.name;
}

std::string caseLabel(const CaseInput& c) { return c.name.empty() ? c.root.filename().string() : c.name; }

namespace {
bool sameOrInside(const fs::path& folder, const fs::path& input) {
  const fs::path in = fs::weakly_canonical(input);
  const fs::path f = fs::weakly_canonical(folder);
  const auto rel = f.lexically_relative(in);
  return f == in || (!rel.empty() && *rel.begin() != "..");
}
}  // namespace

void checkWorkRoot(const fs::path& input, const fs::path& work_root) {
  if (!work_root.empty() && sameOrInside(work_root, input))
    throw Error(work_root, "work root is inside the input folder (inputs are never written)");
}

void checkQcOut(const fs::path& input, const fs::path& qc_out) {
  if (!qc_out.empty() && sameOrInside(qc_out, input))
    throw Error(qc_out, "QC folder is inside the input folder (inputs are never written)");
}

fs::path qcRoot(const DefaceOptions& opt) { return opt.qc_out.empty() ? opt.output / "qc" : opt.qc_out; }

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
  fs::path work_dir;    // the case's intermediates (empty: none)
  std::vector<fs::path>* outputs;  // every file written at a final path
  const qc::SeriesQc* qc = nullptr;  // null: --no-qc
};

FaceCheck toFaceCheck(const qc::FaceHit& h) { return {true, h.detected, h.score, h.view}; }

// Renders and the face detector before and after; with --verify a face still
// found after defacing throws, so the series fails closed before anything is written.
void checkFace(const Volume& vol, const FaceSegmentation& seg, const CaseInventory& inv, const SeriesStack& stack,
               SeriesContext& ctx, SeriesRow& row) {
  const qc::SeriesQcResult q = ctx.qc->run(vol, seg.mask, row.fill_hu, inv.name, stack.name);
  row.face_before = toFaceCheck(q.before);
  row.face_after = toFaceCheck(q.after);
  row.render_seconds = q.render_seconds;
  row.detect_seconds = q.detect_seconds;
  row.qc_before_png = q.before_png;
  row.qc_after_png = q.after_png;
  row.qc_slices_png = q.slices_png;
  if (!q.write_error.empty()) {
    row.warnings.push_back("QC pictures not written: " + q.write_error);
    log::warn(inv.name + "/" + stack.name + ": QC pictures not written: " + q.write_error);
  }
  std::ostringstream line;
  line << inv.name << "/" << stack.name << ": qc render " << std::fixed << std::setprecision(2) << q.render_seconds
       << " s, detect " << q.detect_seconds << " s; before: " << row.face_before.describe()
       << "; after: " << row.face_after.describe();
  log::detail(line.str());
  if (!q.before.detected) {
    row.warnings.push_back("no-face-detected-before: the face detector found no face on the original renders "
                           "(face out of view, or missed); look at " + (qcRoot(ctx.opt) / q.before_png).string());
    log::warn(inv.name + "/" + stack.name + ": no face detected before defacing (see " +
              (qcRoot(ctx.opt) / q.before_png).string() + ")");
  }
  if (ctx.opt.verify && q.after.detected) {
    std::ostringstream e;
    e << "face still detected (" << q.after.view << ", score " << q.after.score << ")";
    throw Error(e.str());
  }
}

bool looksLikeDicomFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".dcm" || ext == ".dicom" || ext == ".ima") return true;
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.seekg(128);
  return in.read(magic, 4) && std::string(magic, 4) == "DICM";
}

// Files in the stack's own folders that look like DICOM (name or preamble) or
// could not be read, but did not parse: a corrupt slice would otherwise make the
// series silently shorter, so the series fails instead, naming them.
std::vector<std::string> suspectFilesBeside(const CaseInventory& inv, const SeriesStack& stack) {
  std::set<fs::path> folders;
  for (const auto& s : stack.slices) folders.insert(inv.instances[s.instance].path.parent_path());
  std::vector<std::string> out;
  for (const auto& sk : inv.skipped) {
    if (!folders.count(sk.path.parent_path())) continue;
    if (sk.reason.rfind("cannot read", 0) == 0 || looksLikeDicomFile(sk.path))
      out.push_back(sk.path.string() + " (" + sk.reason + ")");
  }
  return out;
}

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
    if (const auto suspects = suspectFilesBeside(inv, stack); !suspects.empty()) {
      std::string list;
      for (const auto& f : suspects) list += (list.empty() ? "" : "; ") + f;
      throw Error("unreadable or corrupt DICOM file among the series' files, the series may be incomplete: " + list);
    }
    // From the headers, before a pixel is read: refused, not swapped or OOM-killed.
    if (ctx.opt.max_memory) checkSeriesMemory(inv, stack, ctx.opt.max_memory);
    Volume vol = loadVolume(inv, stack);
    const HuCalibration cal = checkHuCalibration(vol, ctx.opt.hu_offset);
    if (cal.offset != 0) {
      for (float& x : vol.hu) x -= static_cast<float>(cal.offset);
      row.warnings.push_back(cal.note);
      log::warn(inv.name + "/" + stack.name + ": " + cal.note);
    }
    RewriteOptions ro;
    ro.out_root = ctx.case_out;
    ro.new_uids = ctx.opt.new_uids;
    ro.mark_defaced = ctx.opt.mark_defaced;
    // The output files start as byte copies of the sources: made in the
    // background while the series is segmented (staging folder only).
    StagedCopies copies(inv, stack, ro);
    const auto ts = std::chrono::steady_clock::now();
    FaceSegmentation seg = ctx.segmenter.segment(vol);
    row.segment_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    row.fill_hu = fillValueHu(vol, ctx.fill);
    row.voxels_removed = seg.mask.count();
    if (!seg.note.empty()) log::detail(inv.name + "/" + stack.name + ": " + seg.note);
    if (ctx.qc) checkFace(vol, seg, inv, stack, ctx, row);
    if (ctx.opt.keep_work && !ctx.work_dir.empty()) writeNiftiMask(seg.mask, vol, ctx.work_dir / (stack.name + "_mask.nii.gz"));

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

    ro.fill_hu = row.fill_hu + cal.offset;  // in the file's own (header) HU
    RewriteResult rr = rewriteSeries(inv, stack, seg.mask, ro, &copies);
    for (const auto& f : rr.files) ctx.outputs->push_back(f.output);
    for (const auto& p : nifti_written) ctx.outputs->push_back(p);
    testKillPoint("series-done");
    row.files_out = rr.files.size();
    for (const auto& f : rr.files)
      if (!f.note.empty()) row.transfer_syntax_notes.push_back(f.source.filename().string() + ": " + f.note);
    for (const auto& nc : rr.not_covered) row.warnings.push_back("not defaced: " + nc);
    row.status = !rr.not_covered.empty() ? SeriesStatus::Partial
                 : seg.face_in_view      ? SeriesStatus::Defaced
                                         : SeriesStatus::NoFaceInView;
  } catch (const std::exception& e) {
    // Fail closed: nothing of a failed series stays in the output.
    std::error_code ec;
    for (const auto& p : nifti_written) fs::remove(p, ec);
    row.status = SeriesStatus::Failed;
    row.error = e.what();
    row.files_out = 0;
  }
  row.result = row.status;
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return row;
}

void processCase(const CaseInput& c, bool single_case, const DefaceOptions& opt, FaceSegmenter& segmenter,
                 const FillSpec& fill, const fs::path& work_dir, const std::vector<SetAside>& walk_skipped,
                 CaseReport& report) {
  const std::string label = report.name;
  CaseInventory inv;
  try {
    inv = assembleCase(c);
  } catch (const std::exception& e) {
    report.errors.push_back(e.what());
    log::error(label + ": " + e.what());
    return;
  }
  inv.skipped.insert(inv.skipped.end(), walk_skipped.begin(), walk_skipped.end());
  if (inv.name.empty()) inv.name = label;
  log::detail("case " + label + ": " + describeGeometryLine(inv));
  if (inv.stacks.empty()) log::error(label + ": no CT image series in this case");
  SeriesContext ctx{opt,
                    segmenter,
                    fill,
                    caseOutputRoot(c, single_case, opt),
                    opt.nifti_out.empty() ? fs::path() : opt.nifti_out / label,
                    work_dir,
                    &report.outputs};
  // Per case: the cascades are not shared between the threads of a batch.
  std::optional<qc::SeriesQc> series_qc;
  if (opt.qc) {
    series_qc.emplace(qcRoot(opt));
    ctx.qc = &*series_qc;
  }

  for (const auto& stack : inv.stacks) {
    for (const auto& w : stack.warnings) log::detail(label + "/" + stack.name + ": " + w);
    SeriesRow row = processSeries(inv, stack, ctx);
    std::ostringstream line;
    line << label << "/" << stack.name << " (" << row.files_in << " files): " << toString(row.status);
    if (row.status == SeriesStatus::Failed) line << ": " << row.error;
    else line << ", " << row.voxels_removed << " voxels removed, " << std::fixed << std::setprecision(2) << row.seconds << " s";
    if (row.status == SeriesStatus::Failed) log::error(line.str());
    else log::detail(line.str());
    report.series.push_back(std::move(row));
  }

  // Everything else of the case: set aside (localizers, secondary captures, non-image
  // objects) or not DICOM. Not copied unless asked, since a lateral localizer shows
  // the face profile and screenshots can carry burned-in text.
  std::vector<OtherFile> others = otherFilesOf(inv);
  if (opt.copy_other) {
    try {
      copyOtherFiles(others, ctx.case_out);
      for (const auto& o : others)
        if (o.copyable) report.outputs.push_back(ctx.case_out / o.relative);
    } catch (const std::exception& e) {
      report.errors.push_back(std::string("copying the other files: ") + e.what());
      log::error(label + ": copying the other files: " + e.what());
      others.clear();
    }
  }
  for (const auto& o : others) {
    const bool copied = opt.copy_other && o.copyable;
    FileRow fr{label, o.relative, o.reason, copied};
    log::detail("  " + label + "/" + o.relative.string() + ": " + o.reason + (copied ? " (copied)" : " (not written)"));
    report.other_files.push_back(std::move(fr));
  }
}

}  // namespace

void finishRun(const DefaceOptions& opt, const RunReport& report) {
  if (!opt.qc) return;
  // The QC gallery: one row per series that went through the renders and the
  // detector (rows carried over from an earlier run keep their pictures).
  std::vector<qc::GalleryRow> rows;
  for (const auto& r : report.series) {
    // The curator's filter: series to look at because no face was found before.
    std::string status = toString(r.status);
    if (r.face_before.checked && !r.face_before.detected && r.status != SeriesStatus::Failed)
      status += " no-face-detected-before";
    rows.push_back({r.case_name, r.series_name, status, r.error, r.face_before.describe(), r.face_after.describe(),
                    r.qc_before_png, r.qc_after_png, r.qc_slices_png, r.render_seconds, r.detect_seconds});
  }
  // A shard sees only its cases: its page must not replace another shard's.
  const std::string page = opt.shard_count > 0 ? "index-shard-" + std::to_string(opt.shard_index) + "-of-" +
                                                     std::to_string(opt.shard_count) + ".html"
                                               : "index.html";
  try {
    qc::writeGallery(qcRoot(opt), rows, page);
  } catch (const std::exception& e) {
    // The DICOM output and the report are complete already; a missing page is said, not fatal.
    log::error(std::string("QC gallery: ") + e.what());
  }
}

std::vector<SetAside> skippedBelow(const std::vector<SetAside>& skipped, const fs::path& root) {
  std::vector<SetAside> out;
  for (const auto& s : skipped) {
    const fs::path rel = s.path.lexically_relative(root);
    if (!rel.empty() && *rel.begin() != ".." && rel != ".") out.push_back(s);
  }
  return out;
}

CaseReport defaceCase(const CaseInput& c, bool single_case, const DefaceOptions& opt, FaceSegmenter& segmenter,
                      const fs::path& work_dir, const std::vector<SetAside>& walk_skipped) {
  const auto t0 = std::chrono::steady_clock::now();
  CaseReport report;
  report.name = caseLabel(c);
  testKillPoint("case-start");
  try {
    processCase(c, single_case, opt, segmenter, parseFillSpec(opt.fill), work_dir, walk_skipped, report);
  } catch (const std::exception& e) {
    // Isolation: whatever escapes the series guards still ends as this case's failure.
    report.errors.push_back(e.what());
    log::error(report.name + ": " + e.what());
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

RunReport runDeface(const DefaceOptions& opt) {
  auto segmenter = makeSegmenter(opt);
  return runDeface(opt, *segmenter);
}

RunReport runDeface(const DefaceOptions& opt, FaceSegmenter& segmenter) {
  const FillSpec fill = parseFillSpec(opt.fill);
  RunReport report;
  report.tool_version = kVersion;
  report.input = opt.input;
  report.output = opt.output;
  fs::create_directories(opt.output);

  Discovery d = discoverCases(opt.input);
  log::info(std::string(d.single_case ? "one case" : std::to_string(d.cases.size()) + " cases") + " under " +
            opt.input.string());
  std::vector<SetAside> outside_cases = d.skipped;
  for (const auto& c : d.cases)
    std::erase_if(outside_cases, [&](const SetAside& s) { return !skippedBelow({s}, c.root).empty(); });
  for (const auto& s : outside_cases) report.other_files.push_back({"", s.path, s.reason, false});
  (void)fill;  // parsed up front so that a bad --fill fails before any case
  for (const auto& c : d.cases)
    report.add(defaceCase(c, d.single_case, opt, segmenter, {}, skippedBelow(d.skipped, c.root)));
  report.save(opt.output);
  finishRun(opt, report);
  return report;
}

}  // namespace ctd
