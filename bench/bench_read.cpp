// DICOM -> NIfTI speed: ctdeface (convertCaseToNifti, uncompressed .nii) against
// `dcm2niix -z n` on the same 512 x 512 x 300 uncompressed CT series, side by side.
//
//   bench_read [--work DIR] [--repeats N] [--stages]
//
// --stages adds one more run of our side timed stage by stage.
// The series is written once into DIR/series (kept for later runs). Not a ctest test.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "pipeline/Dicom2Nifti.h"
#include "synth/SyntheticSeries.h"
#include "volume/NiftiIO.h"

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMatrix = 512, kSlices = 300;

// A head-sized water cylinder with a bone ring and noise: realistic value ranges
// so that nothing compresses or short-cuts better than real data would.
ctd::Volume makeSeriesVolume() {
  ctd::Volume v;
  v.nx = v.ny = kMatrix;
  v.nz = kSlices;
  v.col_spacing = v.row_spacing = 0.48828125;
  for (std::size_t k = 0; k < kSlices; ++k) v.slice_pos.push_back({-125.0, -125.0, -150.0 + 0.625 * double(k)});
  v.hu.resize(v.voxelCount());
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 12.0f);
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const double x = (double(i) - 256.0) * v.col_spacing, y = (double(j) - 256.0) * v.row_spacing;
        const double r = std::hypot(x / 80.0, y / 95.0);
        float hu = r > 1.0 ? -1000.0f : (r > 0.92 ? 1200.0f : 35.0f);
        if (x * x + y * y > 125.0 * 125.0) hu = -2000.0f;  // outside the reconstruction circle
        v.at(i, j, k) = hu + (hu > -1500.0f ? noise(rng) : 0.0f);
      }
  return v;
}

fs::path ensureSeries(const fs::path& work) {
  const fs::path dir = work / "series", done = work / "series.complete";
  if (fs::exists(done)) return dir;
  std::printf("writing the %zu x %zu x %zu series once into %s ...\n", kMatrix, kMatrix, kSlices, dir.c_str());
  std::fflush(stdout);
  fs::remove_all(dir);
  ctd::synth::SeriesSpec spec;
  spec.volume = makeSeriesVolume();
  spec.series_description = "bench_read";
  ctd::synth::writeSeries(spec, dir);
  std::ofstream(done) << "ok\n";
  return dir;
}

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds (user + system) of this process or of its waited-for children:
// on a shared machine wall time is noisy, CPU time much less so.
double cpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x.size() % 2 ? x[x.size() / 2] : 0.5 * (x[x.size() / 2 - 1] + x[x.size() / 2]);
}

// Where our time goes: the stages convertCaseToNifti runs, timed one by one
// (wall and CPU of this process), so that a regression can be placed.
void printStages(const fs::path& series, const fs::path& out) {
  fs::remove_all(out);
  fs::create_directories(out);
  auto t0 = std::chrono::steady_clock::now();
  rusage u0{};
  getrusage(RUSAGE_SELF, &u0);
  auto lap = [&](const char* what) {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto diff = [](timeval a, timeval b) { return double(a.tv_sec - b.tv_sec) + 1e-6 * double(a.tv_usec - b.tv_usec); };
    std::printf("  %-16s wall %6.3f  user %6.3f  sys %6.3f  page faults %ld\n", what, seconds(t0),
                diff(u.ru_utime, u0.ru_utime), diff(u.ru_stime, u0.ru_stime), u.ru_minflt - u0.ru_minflt);
    t0 = std::chrono::steady_clock::now();
    u0 = u;
  };
  std::printf("stages of one ctdeface run:\n");
  const ctd::Discovery found = ctd::discoverCases(series);
  lap("discoverCases");
  const ctd::CaseInventory inv = ctd::assembleCase(found.cases.at(0));
  lap("assembleCase");
  const ctd::Volume v = ctd::loadVolume(inv, inv.stacks.at(0));
  lap("loadVolume");
  ctd::writeNifti(v, out / "stages.nii", ctd::NiftiPixel::Int16);
  lap("writeNifti");
}

}  // namespace

int main(int argc, char** argv) {
  fs::path work = fs::temp_directory_path() / "ctdeface-bench-read";
  int repeats = 3;
  bool stages = false;
  for (int a = 1; a < argc; ++a) {
    const std::string arg = argv[a];
    if (arg == "--work" && a + 1 < argc) {
      work = argv[++a];
    } else if (arg == "--repeats" && a + 1 < argc) {
      repeats = std::max(1, std::atoi(argv[++a]));
    } else if (arg == "--stages") {
      stages = true;
    } else {
      std::fprintf(stderr, "usage: %s [--work DIR] [--repeats N] [--stages]\n", argv[0]);
      return 2;
    }
  }
  try {
    fs::create_directories(work);
    const fs::path series = ensureSeries(work);
    const fs::path ours = work / "out-ctdeface", theirs = work / "out-dcm2niix";
    std::vector<double> t_ours, t_theirs, c_ours, c_theirs;
    std::printf("%-8s %14s %14s %14s %14s\n", "repeat", "ctdeface wall", "dcm2niix wall", "ctdeface cpu",
                "dcm2niix cpu");
    for (int r = 0; r < repeats; ++r) {
      fs::remove_all(ours);
      fs::remove_all(theirs);
      fs::create_directories(ours);
      fs::create_directories(theirs);

      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpuSeconds(RUSAGE_SELF);
      const auto written = ctd::convertCaseToNifti(series, ours, ".nii");
      t_ours.push_back(seconds(t0));
      c_ours.push_back(cpuSeconds(RUSAGE_SELF) - c0);
      if (written.size() != 1) throw ctd::Error(series, "expected one NIfTI, got " + std::to_string(written.size()));

      const std::string cmd = "dcm2niix -z n -f %s -o '" + theirs.string() + "' '" + series.string() + "' > '" +
                              (work / "dcm2niix.log").string() + "' 2>&1";
      t0 = std::chrono::steady_clock::now();
      c0 = cpuSeconds(RUSAGE_CHILDREN);
      if (std::system(cmd.c_str()) != 0) throw ctd::Error(work / "dcm2niix.log", "dcm2niix failed");
      t_theirs.push_back(seconds(t0));
      c_theirs.push_back(cpuSeconds(RUSAGE_CHILDREN) - c0);
      std::printf("%-8d %14.3f %14.3f %14.3f %14.3f\n", r + 1, t_ours.back(), t_theirs.back(), c_ours.back(),
                  c_theirs.back());
      std::fflush(stdout);
    }
    const double mo = median(t_ours), mt = median(t_theirs), co = median(c_ours), ct = median(c_theirs);
    std::printf("%-8s %14.3f %14.3f %14.3f %14.3f\n", "median", mo, mt, co, ct);
    std::printf("ctdeface / dcm2niix: wall %.2f, cpu %.2f\n", mo / mt, co / ct);
    // The fastest repeat of each: on a shared machine (or a VM whose host
    // reclaims freed memory) the median carries the neighbours' noise too.
    const auto least = [](const std::vector<double>& x) { return *std::min_element(x.begin(), x.end()); };
    std::printf("%-8s %14.3f %14.3f %14.3f %14.3f\n", "min", least(t_ours), least(t_theirs), least(c_ours),
                least(c_theirs));
    std::printf("ctdeface / dcm2niix (min): wall %.2f, cpu %.2f\n", least(t_ours) / least(t_theirs),
                least(c_ours) / least(c_theirs));
    std::printf("series: %zu x %zu x %zu, uncompressed DICOM in %s\n", kMatrix, kMatrix, kSlices, series.c_str());
    if (stages) printStages(series, ours);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
