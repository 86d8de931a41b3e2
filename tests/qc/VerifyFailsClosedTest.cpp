// --verify in the pipeline: a deliberately broken defacer (its mask misses the
// nose) must make the series fail closed: status failed with "face still
// detected", nothing of it in OUT, exit code 1. The segmenter is injected
// through runDeface(options, segmenter).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <iostream>

#include "phantom/PhantomGenerator.h"
#include "pipeline/DefaceJob.h"
#include "segment/GeometricSegmenter.h"
#include "synth/SyntheticSeries.h"

namespace fs = std::filesystem;
using namespace ctd;

namespace {

// The real geometric mask with every voxel within `radius` mm of a landmark
// taken out again: brow, eyes and nose stay in the "defaced" series.
class RegionMissingSegmenter : public FaceSegmenter {
 public:
  RegionMissingSegmenter(Vec3 centre, double radius) : centre_(centre), radius_(radius) {}
  std::string name() const override { return "broken-misses-region"; }
  FaceSegmentation segment(const Volume& v) override {
    FaceSegmentation s = GeometricSegmenter().segment(v);
    for (std::size_t k = 0; k < v.nz; ++k)
      for (std::size_t j = 0; j < v.ny; ++j)
        for (std::size_t i = 0; i < v.nx; ++i)
          if (norm(v.world(static_cast<double>(i), static_cast<double>(j), k) - centre_) < radius_)
            s.mask.data[s.mask.index(i, j, k)] = 0;
    return s;
  }

 private:
  Vec3 centre_;
  double radius_;
};

// A shallow defacer that misses the nose: it takes the phantom's labelled lips
// and chin and nothing else, so the nose stays on an intact face. (Cutting a
// ball around the nose tip out of the geometric mask no longer works as a
// broken defacer: the geometric cut goes 50 mm deep, so what is left is a nose
// floating in front of a flat cut, not a face.)
class NoseMissingSegmenter : public FaceSegmenter {
 public:
  explicit NoseMissingSegmenter(const phantom::PhantomCase& pc) : labels_(pc.labels) {}
  std::string name() const override { return "broken-misses-nose"; }
  FaceSegmentation segment(const Volume& v) override {
    FaceSegmentation s;
    s.mask = VoxelMask::like(v);
    for (std::size_t x = 0; x < s.mask.data.size(); ++x)
      s.mask.data[x] = labels_.data[x] == phantom::Lips || labels_.data[x] == phantom::Chin;
    return s;
  }

 private:
  const VoxelMask& labels_;
};

struct Fixture {
  fs::path root, in, out;
  phantom::PhantomCase pc;
};

Fixture writePhantomCase(const std::string& name) {
  Fixture f;
  f.root = fs::path(CTD_BINARY_DIR) / ("qc-verify-" + name);
  fs::remove_all(f.root);
  f.in = f.root / "in";
  f.out = f.root / "out";
  phantom::PhantomSpec spec;  // a frontal adult head, 1 mm pixels, 2 mm slices
  spec.yaw_deg = 8;
  f.pc = phantom::makePhantom(spec);
  synth::SeriesSpec s;
  s.volume = f.pc.ct;
  s.series_description = "phantom for --verify";
  synth::writeSeries(s, f.in);
  return f;
}

std::size_t dicomFilesUnder(const fs::path& dir) {
  std::size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".dcm") ++n;
  return n;
}

void expectRefused(const std::string& name, FaceSegmenter& broken, const Fixture& f,
                   const fs::path& qc_out = {}) {
  DefaceOptions opt;
  opt.input = f.in;
  opt.output = f.out;
  opt.qc_out = qc_out;
  const fs::path qc = qc_out.empty() ? f.out / "qc" : qc_out;
  const RunReport r = runDeface(opt, broken);
  ASSERT_EQ(r.series.size(), 1u);
  const SeriesRow& row = r.series[0];
  std::cout << name << ": status " << toString(row.status) << ", error '" << row.error
            << "', before: " << row.face_before.describe() << ", after: " << row.face_after.describe() << "\n"
            << "  renders: " << (qc / row.qc_before_png).string() << ", " << (qc / row.qc_after_png).string()
            << "\n";
  EXPECT_TRUE(row.face_before.detected);
  EXPECT_TRUE(row.face_after.detected);
  EXPECT_EQ(row.status, SeriesStatus::Failed);
  EXPECT_NE(row.error.find("face still detected"), std::string::npos) << row.error;
  EXPECT_EQ(row.files_out, 0u);
  EXPECT_EQ(dicomFilesUnder(f.out), 0u) << "a refused series left files in OUT";
  EXPECT_EQ(r.exitCode(), 1);
  // The curator still gets the pictures of why.
  EXPECT_TRUE(fs::exists(qc / "index.html"));
  EXPECT_TRUE(fs::exists(qc / row.qc_before_png));
  EXPECT_TRUE(fs::exists(qc / row.qc_after_png));
  // The folder says what it holds to whoever finds it: the before renders show the face.
  EXPECT_TRUE(fs::exists(qc / "DO-NOT-SHARE.txt"));
}

}  // namespace

// The brief's case: a mask that misses the nose (lips and chin only).
TEST(VerifyFailsClosed, DefacerThatMissesTheNoseIsRefused) {
  const Fixture f = writePhantomCase("broken-nose");
  NoseMissingSegmenter broken(f.pc);
  expectRefused("broken-nose", broken, f);
}

// A worse defacer: brow, eyes and nose (60 mm around the nasion) left in place.
TEST(VerifyFailsClosed, DefacerThatMissesTheUpperFaceIsRefused) {
  const Fixture f = writePhantomCase("broken-upper");
  RegionMissingSegmenter broken(f.pc.landmark("nasion").value(), 60.0);
  expectRefused("broken-upper", broken, f);
}

TEST(VerifyFailsClosed, NoVerifyWritesTheSameSeries) {
  // The control: the same broken mask with --no-verify is written, so the
  // failure above comes from the detector and nothing else.
  Fixture f = writePhantomCase("noverify");
  NoseMissingSegmenter broken(f.pc);
  DefaceOptions opt;
  opt.input = f.in;
  opt.output = f.out;
  opt.verify = false;
  const RunReport r = runDeface(opt, broken);
  ASSERT_EQ(r.series.size(), 1u);
  EXPECT_EQ(r.series[0].status, SeriesStatus::Defaced) << r.series[0].error;
  EXPECT_EQ(dicomFilesUnder(f.out), f.pc.ct.nz);
}

// --qc-out: the renders of the original face go to the curator's folder, and
// nothing of QC is in OUT, which is what gets shared.
TEST(VerifyFailsClosed, QcOutKeepsTheRendersOutOfOut) {
  const Fixture f = writePhantomCase("qc-out");
  NoseMissingSegmenter broken(f.pc);
  const fs::path qc = f.root / "curator-qc";
  expectRefused("qc-out", broken, f, qc);
  EXPECT_FALSE(fs::exists(f.out / "qc"));
}
