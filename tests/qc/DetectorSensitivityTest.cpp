// Acceptance of the face detector on phantoms (issue 6/7): the face is found on
// the renders of the original in >= 95% of fixed-seed random poses and on none
// of the renders after the real geometric segmenter. 50 poses (seeds 1-50,
// disjoint from the seeds 2000-2023 the detector settings were chosen on), in
// five ctest cases of ten so that they run in parallel; each case asserts "no
// face after" for every seed and records what it found before, and
// Over50Poses asserts the 95% over all fifty (ctest runs it after the five:
// tests/qc/sensitivity_order.cmake).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "QcTestSupport.h"
#include "qc/SeriesQc.h"
#include "segment/GeometricSegmenter.h"

namespace fs = std::filesystem;
using namespace ctd;

namespace {

// About 25 s per ten poses in a normal build, so it runs by default there; under
// ASan it would take many minutes, so a sanitizer build runs it only with
// CTD_QC_ACCEPTANCE=1 (and CTD_QC_ACCEPTANCE=0 skips it anywhere).
bool requested() {
  const char* run = std::getenv("CTD_QC_ACCEPTANCE");
  if (run != nullptr) return std::string(run) == "1";
#if defined(__SANITIZE_ADDRESS__)
  return false;
#else
  return true;
#endif
}

const fs::path& outDir() {
  static const fs::path out = fs::path(CTD_BINARY_DIR) / "qc-sensitivity";
  return out;
}

// CTD_QC_SEED_BASE=N runs the same check on seeds N+1..N+50 instead: a held-out
// set for settings that were looked at on seeds 1-50.
unsigned seedBase() {
  const char* b = std::getenv("CTD_QC_SEED_BASE");
  return b == nullptr ? 0u : static_cast<unsigned>(std::stoul(b));
}

fs::path resultFile(unsigned seed) { return outDir() / ("result-seed" + std::to_string(seed) + ".txt"); }

void runSeeds(const std::vector<unsigned>& seeds) {
  const qc::SeriesQc qc(outDir());
  unsigned found_before = 0, found_after = 0;
  for (unsigned seed : seeds) {
    fs::remove(resultFile(seed));
    const phantom::PhantomSpec spec = qctest::faceInViewPose(seed);
    const phantom::PhantomCase pc = phantom::makePhantom(spec);
    const FaceSegmentation seg = GeometricSegmenter().segment(pc.ct);
    const qc::SeriesQcResult r = qc.run(pc.ct, seg.mask, -1000, "seed" + std::to_string(seed), "phantom");
    found_before += r.before.detected;
    found_after += r.after.detected;
    std::cout << spec.describe() << "\n  before: " << (r.before.detected ? "FACE" : "no face") << " score "
              << r.before.score << " " << r.before.view << " | after: " << (r.after.detected ? "FACE" : "no face")
              << " score " << r.after.score << " " << r.after.view << " " << r.after.cascade << " box " << r.after.box.x
              << "," << r.after.box.y << " " << r.after.box.width << "x" << r.after.box.height << " | render "
              << r.render_seconds << " s, detect " << r.detect_seconds << " s | " << (outDir() / r.before_png).string()
              << "\n";
    EXPECT_FALSE(r.after.detected) << "face still detected after defacing: " << spec.describe() << " -> "
                                   << (outDir() / r.after_png).string();
    std::ofstream(resultFile(seed)) << r.before.detected << " " << r.after.detected << "\n";
  }
  std::cout << "seeds " << seeds.front() << "-" << seeds.back() << ": face before on " << found_before << "/"
            << seeds.size() << ", after on " << found_after << "/" << seeds.size() << "\n";
  EXPECT_EQ(found_after, 0u);
}

void runPoses(unsigned first, unsigned count) {
  if (!requested()) GTEST_SKIP() << "issue 6/7 acceptance: skipped in sanitizer builds; CTD_QC_ACCEPTANCE=1 runs it";
  std::vector<unsigned> seeds;
  for (unsigned seed = first + seedBase(); seed < first + seedBase() + count; ++seed) seeds.push_back(seed);
  runSeeds(seeds);
}

}  // namespace

TEST(DetectorSensitivity, Seeds01to10) { runPoses(1, 10); }
TEST(DetectorSensitivity, Seeds11to20) { runPoses(11, 10); }
TEST(DetectorSensitivity, Seeds21to30) { runPoses(21, 10); }
TEST(DetectorSensitivity, Seeds31to40) { runPoses(31, 10); }
TEST(DetectorSensitivity, Seeds41to50) { runPoses(41, 10); }

// A probe for looking at single poses: CTD_QC_SEEDS="3013,3034" runs those
// (renders in build/qc-sensitivity/seedN); skipped without the variable.
TEST(DetectorSensitivity, ChosenSeeds) {
  const char* list = std::getenv("CTD_QC_SEEDS");
  if (list == nullptr) GTEST_SKIP() << "set CTD_QC_SEEDS=a,b,c";
  std::vector<unsigned> seeds;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) seeds.push_back(static_cast<unsigned>(std::stoul(item)));
  runSeeds(seeds);
}

// The sensitivity over all fifty poses, from the five cases' records of this
// run (a record older than this test binary is from another build: refused).
TEST(DetectorSensitivity, Over50Poses) {
  if (!requested()) GTEST_SKIP() << "issue 6/7 acceptance: skipped in sanitizer builds; CTD_QC_ACCEPTANCE=1 runs it";
  const auto built = fs::last_write_time(fs::read_symlink("/proc/self/exe"));
  unsigned before = 0, after = 0;
  for (unsigned seed = seedBase() + 1; seed <= seedBase() + 50; ++seed) {
    const fs::path f = resultFile(seed);
    ASSERT_TRUE(fs::exists(f) && fs::last_write_time(f) > built)
        << "no record of seed " << seed << " from this build: run DetectorSensitivity.* (all five cases) first";
    unsigned b = 0, a = 0;
    std::ifstream(f) >> b >> a;
    before += b;
    after += a;
  }
  std::cout << "seeds " << seedBase() + 1 << "-" << seedBase() + 50 << ": face before on " << before << "/50, after on " << after << "/50\n";
  EXPECT_GE(before * 100, 95u * 50u) << "sensitivity below 95% over the fifty poses";
  EXPECT_EQ(after, 0u);
}
