// Where the end-to-end time and memory of `ctdeface` go, stage by stage, on
// one DICOM series (e.g. the 512 x 512 x 300 phantom of run_deface_bench.sh):
//
//   bench_stages SERIES_DIR OUT_DIR [THREADS]
//
// THREADS: the slice-thread budget (as the batch sets it per case; default
// two). 1 gives single-threaded instruction profiles (callgrind) per stage.
//
// Runs the steps of the pipeline's processSeries one by one through the same
// public functions (header pass, loadVolume, checkHuCalibration, the geometric
// segmenter, rewriteSeries) and prints, after each, its wall and CPU time, the resident
// set size and the peak so far (VmRSS / VmHWM from /proc/self/status). Not a
// test: the figures of issue 3/7 come from run_deface_bench.sh. The CLI also
// stamps every input (before) and output (after) with its SHA-1 for the
// resumable state record (src/batch/CaseState): timed here as two stages
// through the same FileStamp, on the slice threads as CaseState does.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "batch/FileStamp.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "pipeline/HuCalibration.h"
#include "segment/Blend.h"
#include "segment/GeometricSegmenter.h"
#include "volume/SliceThreads.h"
#include "write/SeriesRewriter.h"

namespace {

using Clock = std::chrono::steady_clock;

long statusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

// User + system CPU seconds of the whole process (every thread): on a loaded
// machine far steadier than wall time.
double cpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// SHA-1 stamps of `files`, spread over the slice threads (as the batch's state record).
void stampAll(const std::vector<std::filesystem::path>& files) {
  ctd::forEachSlice(files.size(), std::size_t{1} << 20,
                    [&](std::size_t i) { ctd::batch::stampFile(files[i], files[i].filename().string(), true); });
}

struct Stages {
  Clock::time_point t = Clock::now();
  double cpu = cpuSeconds();
  void operator()(const char* what) {
    const auto now = Clock::now();
    const double c = cpuSeconds();
    std::printf("%-22s %7.3f s  cpu %6.3f s   RSS %5ld MiB   peak %5ld MiB\n", what,
                std::chrono::duration<double>(now - t).count(), c - cpu, statusKb("VmRSS:") / 1024,
                statusKb("VmHWM:") / 1024);
    t = Clock::now();
    cpu = cpuSeconds();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: bench_stages SERIES_DIR OUT_DIR [THREADS]\n");
    return 2;
  }
  if (argc == 4) ctd::t_slice_thread_budget = static_cast<unsigned>(std::stoul(argv[3]));
  const std::filesystem::path out = argv[2];
  std::filesystem::remove_all(out);
  Stages lap;
  const ctd::Discovery d = ctd::discoverCases(argv[1]);
  stampAll(d.cases.at(0).files);
  lap("find, hash inputs");
  ctd::CaseInventory inv = ctd::assembleCase(d.cases.at(0));
  lap("headers");
  const ctd::SeriesStack& stack = inv.stacks.at(0);
  ctd::Volume vol = ctd::loadVolume(inv, stack);
  lap("pixels -> HU");
  const ctd::HuCalibration cal = ctd::checkHuCalibration(vol);
  lap("HU check");
  ctd::GeometricSegmenter seg;
  ctd::FaceSegmentation fs = seg.segment(vol);
  lap("segment");
  const double fill = ctd::fillValueHu(vol, ctd::FillSpec{});
  const std::size_t removed = fs.mask.count();
  vol = ctd::Volume{};
  lap("fill, count, free HU");
  ctd::RewriteOptions ro;
  ro.out_root = out;
  ro.fill_hu = fill + cal.offset;
  const ctd::RewriteResult rr = ctd::rewriteSeries(inv, stack, fs.mask, ro);
  lap("rewrite + commit");
  std::vector<std::filesystem::path> outputs;
  for (const auto& f : rr.files) outputs.push_back(f.output);
  stampAll(outputs);
  lap("hash outputs (state)");
  std::printf("%zu files written, %zu voxels removed (%zu changed)\n", rr.files.size(), removed, rr.changed_voxels);
  return 0;
}
