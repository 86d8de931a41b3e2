// ctdeface command line. Exit codes: 0 every series defaced or had no face in
// view; 1 any series failed or was partial; 2 usage error.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "batch/BatchRun.h"
#include "batch/ReportMerge.h"
#include "batch/Shard.h"
#include "core/Error.h"
#include "dicom/MemoryBudget.h"
#include "pipeline/DefaceJob.h"
#include "pipeline/DefaceNifti.h"
#include "pipeline/Dicom2Nifti.h"
#include "pipeline/Log.h"
#include "pipeline/Version.h"
#include "segment/Blend.h"
#include "segment/nnunet/ModelStore.h"
#include "write/NiftiToDicom.h"

namespace {

constexpr int kExitUsage = 2;

void addDefaceOptions(CLI::App& app, ctd::DefaceOptions& o) {
  app.add_option("--model", o.model, "Face segmenter: geometric (built in, default), cta-deface, or a model folder");
  app.add_option("--fill", o.fill, "Value for face voxels: air (-1000 HU, default), p10 (10th percentile), or HU");
  app.add_option("--brain-margin", o.brain_margin_mm, "Safety margin (mm) around the cranial cavity that is never changed");
  app.add_flag("--remove-ears", o.remove_ears, "Also remove the outer ears");
  app.add_option("--hu-offset", o.hu_offset,
                 "Values are HU + this (for series whose rescale header is wrong); default: detected");
  app.add_option("--threads", o.threads,
                 "Threads in all (0 = every core); a batch splits them between its -j cases (and MPI ranks on a machine)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--step-size", o.step_size, "nnU-Net models: sliding-window step as a fraction of the patch (0.5)")
      ->check(CLI::Range(0.01, 1.0));
  app.add_flag("--tta", o.tta, "nnU-Net models: mirroring test-time augmentation (off, as in the original pipeline)");
  app.add_option("--folds", o.folds, "nnU-Net models: folds to ensemble (default: all if present, else every fold)")
      ->delimiter(',');
  app.add_flag("--bf16", o.bf16, "nnU-Net models: bfloat16 convolutions (faster on AVX512-BF16 CPUs; check agreement)");
  app.add_option("--roi", o.roi,
                 "nnU-Net models: all (default: the whole image, exactly as nnU-Net) or face (only nnU-Net's tiles "
                 "overlapping the geometric face region; the rest is background)")
      ->check(CLI::IsMember({"all", "face"}));
  app.add_option("--roi-margin", o.roi_margin_mm, "nnU-Net models, --roi face: widening of the face region in mm (40)")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

int main(int argc, char** argv) {
  // Under a file size limit (ulimit -f) the kernel would kill the process with
  // SIGXFSZ mid-write; ignored, write() fails with EFBIG and the series fails
  // closed like on a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"ctdeface: removes the face from head and neck CT DICOM series, keeping everything else."};
  app.set_version_flag("--version", ctd::kVersion);
  ctd::DefaceOptions opt;
  bool quiet = false, verbose = false;
  app.add_option("-i,--dicom-root-in", opt.input, "One case folder, or a folder whose sub-folders are cases");
  app.add_option("-o,--dicom-root-out", opt.output, "Output folder (mirrors the input layout)");
  app.add_option("--nifti-root-out", opt.nifti_out, "Also write <case>/<series>.nii.gz and <series>_mask.nii.gz here");
  app.add_option("-w,--work-root", opt.work_root, "Folder for intermediates");
  app.add_flag("--keep-work", opt.keep_work, "Keep intermediates in the work root");
  app.add_flag("--copy-other", opt.copy_other, "Copy localizers, secondary captures and other non-CT files unchanged");
  app.add_flag("--new-uids", opt.new_uids, "Give written files new SOP and Series Instance UIDs");
  app.add_flag("--mark-defaced", opt.mark_defaced, "Mark written files as derived and de-identified (see README)");
  bool no_qc = false, verify = false, no_verify = false;
  app.add_flag("--no-qc", no_qc, "No skin renders, face detector or OUT/qc gallery (implies --no-verify)");
  app.add_flag("--verify", verify, "Fail a series closed when its defaced render still shows a face (default)");
  app.add_option("--qc-out", opt.qc_out,
                 "Folder for the QC gallery and renders (default OUT/qc); the before renders show the faces, "
                 "so keep them apart from what you share");
  app.add_flag("--no-verify", no_verify, "Write series even when the face detector still finds a face after defacing");
  std::string shard;
  std::string max_memory;
  app.add_option("--max-memory", max_memory,
                 "Most memory one series may take, e.g. 8G or 512M (default: half of RAM or of the container's limit); "
                 "larger series are refused from their headers");
  app.add_option("-j,--jobs", opt.jobs, "Cases processed at once (they share --threads)")->check(CLI::PositiveNumber);
  app.add_flag("--force", opt.force, "Redo every case, also those a previous run finished");
  app.add_option("--shard", shard, "Only the cases of shard I of N, 1 <= I <= N (job arrays; Slurm --array=1-N: --shard $SLURM_ARRAY_TASK_ID/N)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors");
  app.add_flag("-v,--verbose", verbose, "Say more (geometry, set-aside files, transcoding)");
  addDefaceOptions(app, opt);

  auto* convert = app.add_subcommand("convert", "Format conversion (the original pipeline's converters)");
  convert->require_subcommand(1);
  std::filesystem::path d2n_in, d2n_out;
  auto* d2n = convert->add_subcommand("dicom2nifti", "One NIfTI (.nii.gz) per CT series of a case");
  d2n->add_option("-i,--input", d2n_in, "Case folder")->required();
  d2n->add_option("-o,--output", d2n_out, "Output folder")->required();
  std::filesystem::path n2d_nifti, n2d_ref, n2d_out;
  bool n2d_strict = false;
  auto* n2d = convert->add_subcommand("nifti2dicom", "Write a defaced NIfTI back into its DICOM series");
  n2d->add_option("--nifti", n2d_nifti, "Defaced NIfTI file")->required();
  n2d->add_option("--ref", n2d_ref, "The original case or series folder")->required();
  n2d->add_option("-o,--output", n2d_out, "Output folder")->required();
  n2d->add_flag("--strict", n2d_strict, "Fail when the NIfTI does not cover every slice");

  auto* report_cmd = app.add_subcommand("report", "Work with run reports");
  report_cmd->require_subcommand(1);
  std::filesystem::path merge_dir;
  auto* merge = report_cmd->add_subcommand("merge", "Merge the --shard reports in OUT into ctdeface-report.json/.csv");
  merge->add_option("OUT", merge_dir, "The output folder the shards wrote to")->required();

  auto* model_cmd = app.add_subcommand("model", "Install and list nnU-Net models ($CTDEFACE_HOME/models)");
  model_cmd->require_subcommand(1);
  std::filesystem::path mi_src;
  std::string mi_name = "cta-deface";
  auto* mi = model_cmd->add_subcommand("install", "Install an nnU-Net results folder, or a .zip holding one");
  mi->add_option("SOURCE", mi_src, "Results folder (dataset.json, plans.json, fold_*) or zip")->required();
  mi->add_option("--name", mi_name, "Name to use with --model (default cta-deface)");
  auto* ml = model_cmd->add_subcommand("list", "List the installed models");

  std::filesystem::path dn_in, dn_out;
  auto* dn = app.add_subcommand("deface-nifti", "Deface NIfTI images (a file or a folder); writes image and mask");
  dn->add_option("-i,--input", dn_in, "NIfTI file or folder")->required();
  dn->add_option("-o,--output", dn_out, "Output folder")->required();
  addDefaceOptions(*dn, opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  ctd::log::setLevel(quiet ? ctd::log::Level::Quiet : verbose ? ctd::log::Level::Verbose : ctd::log::Level::Normal);

  try {
    if (d2n->parsed()) {
      for (const auto& c : ctd::convertCaseToNifti(d2n_in, d2n_out)) ctd::log::info(c.file.string());
      return 0;
    }
    if (n2d->parsed()) {
      ctd::NiftiToDicomOptions no;
      no.nifti = n2d_nifti;
      no.ref = n2d_ref;
      no.out_dir = n2d_out;
      no.strict = n2d_strict;
      const ctd::RewriteResult r = ctd::niftiToDicom(no);
      for (const auto& nc : r.not_covered) ctd::log::warn("not defaced: " + nc);
      ctd::log::info(std::to_string(r.files.size()) + " files written, " + std::to_string(r.changed_voxels) +
                     " voxels changed");
      return r.not_covered.empty() ? 0 : 1;
    }
    if (merge->parsed()) {
      const ctd::RunReport r = ctd::batch::mergeShardReports(merge_dir);
      ctd::log::info(std::to_string(r.cases.size()) + " cases merged into " + (merge_dir / "ctdeface-report.json").string());
      return r.exitCode();
    }
    if (mi->parsed() || ml->parsed()) {
      const ctd::nnunet::ModelStore store(ctd::nnunet::ModelStore::defaultHome());
      if (mi->parsed()) {
        try {
          store.install(mi_src, mi_name, std::cout);
        } catch (const ctd::Error& e) {
          std::cerr << "error: " << e.what() << '\n';
          return 1;
        }
        return 0;
      }
      const auto models = store.list();
      if (models.empty()) std::cout << "no models installed in " << store.modelsDir().string() << '\n';
      for (const auto& m : models) std::cout << m.line() << '\n';
      return 0;
    }
    if (dn->parsed()) {
      int rc = 0;
      for (const auto& r : ctd::defaceNifti(dn_in, dn_out, opt))
        if (!r.error.empty()) rc = 1;
      return rc;
    }
    if (opt.input.empty() || opt.output.empty()) {
      std::cerr << "error: -i/--dicom-root-in and -o/--dicom-root-out are required (see --help)\n";
      return kExitUsage;
    }
    opt.max_memory = max_memory.empty() ? ctd::defaultMemoryLimit() : ctd::parseMemorySize(max_memory);
    if (!shard.empty()) {
      const ctd::batch::Shard s = ctd::batch::parseShard(shard);
      opt.shard_index = s.index;
      opt.shard_count = s.count;
    }
    if (verify && (no_verify || no_qc)) {
      // --verify runs the detector on the QC renders: it cannot run without them.
      std::cerr << "error: --verify needs the QC renders: it cannot be combined with " << (no_qc ? "--no-qc" : "--no-verify")
                << '\n';
      return kExitUsage;
    }
    opt.qc = !no_qc;
    opt.verify = opt.qc && !no_verify;
    ctd::checkInputOutput(opt.input, opt.output);
    ctd::checkWorkRoot(opt.input, opt.work_root);
    ctd::checkQcOut(opt.input, opt.qc_out);
    (void)ctd::makeSegmenter(opt);  // a missing or unknown model is a usage error, before any work
    (void)ctd::parseFillSpec(opt.fill);
    return ctd::batch::runBatchCommand(opt);
  } catch (const ctd::Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}
