// Running out of room: a disk that fills up while a series is written (a tiny
// tmpfs where mounting is allowed, and a file size limit, `ulimit -f`, that
// works everywhere) and a series larger than --max-memory. The series fails
// with its reason, nothing partial is left, the other case is done.
#include <sys/mount.h>

#include "BadInputFixture.h"
#include "DicomEdits.h"
#include "synth/SyntheticSeries.h"

namespace ctd::test {
namespace {

// A series of 256 x 256 random HU (128 KiB per file, 2.5 MiB in all): no face,
// so it is written unchanged, which is enough to fill a small disk.
void writeLargeSeries(const fs::path& dir, std::size_t slices = 20) {
  synth::SeriesSpec s;
  Volume& v = s.volume;
  v.nx = v.ny = 256;
  v.nz = slices;
  v.row_spacing = v.col_spacing = 0.9;
  v.hu.resize(v.voxelCount());
  std::uint32_t x = 12345;
  for (auto& h : v.hu) {
    x = x * 1664525u + 1013904223u;
    h = static_cast<float>(static_cast<int>(x >> 20) % 2000 - 1000);
  }
  for (std::size_t k = 0; k < slices; ++k) v.slice_pos.push_back({-115, -115, 2.0 * double(k)});
  s.series_description = "large noise";
  s.series_number = 3;
  synth::writeSeries(s, dir);
}

std::string seriesStatus(const BatchRun& run, const std::string& description, std::string* error = nullptr) {
  for (const auto& s : run.report.value("series", nlohmann::json::array()))
    if (s.value("description", "") == description) {
      if (error) *error = s.value("error", "");
      return s.value("status", "");
    }
  return "";
}

TEST_F(BadInput, FileSizeLimitDuringWriting) {
  writeLargeSeries(bad_);
  // Each of the large series' files is 128 KiB; the good phantom's are 18 KiB.
  const BatchRun run = runBatch({}, {.max_file_bytes = 64 << 10});
  std::string error;
  EXPECT_EQ(seriesStatus(run, "large noise", &error), "failed");
  EXPECT_EQ(run.child.exit_code, 1);
  EXPECT_NE(error.find("IM0"), std::string::npos) << error;
  EXPECT_NE(error.find("too large"), std::string::npos) << error;
}

class FullDisk : public BadInput {
 protected:
  void SetUp() override {
    BadInput::SetUp();
    mount_ = scratch_ / "disk";
    fs::create_directories(mount_);
    // 1.5 MiB: room for the good case (1 MiB) and the report, not for the large series.
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=1536k") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "); the file size limit case covers EFBIG";
    mounted_ = true;
    out_ = mount_ / "out";
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
  }
  fs::path mount_;
  bool mounted_ = false;
};

TEST_F(FullDisk, DiskFullDuringWritingLeavesNoPartialSeries) {
  writeLargeSeries(bad_);
  const BatchRun run = runBatch();
  std::string error;
  EXPECT_EQ(seriesStatus(run, "large noise", &error), "failed");
  EXPECT_EQ(run.child.exit_code, 1);
  EXPECT_NE(error.find("IM0"), std::string::npos) << error;
  EXPECT_NE(error.find("No space left"), std::string::npos) << error;
}

TEST_F(BadInput, SeriesAboveMaxMemoryIsRefusedFromItsHeaders) {
  writeLargeSeries(bad_, 30);
  // good: 96 x 96 x 52 voxels; large: 256 x 256 x 30, well above 8 MiB at 8 bytes a voxel.
  const BatchRun run = runBatch({"--max-memory", "8M"});
  std::string error;
  EXPECT_EQ(seriesStatus(run, "large noise", &error), "failed");
  EXPECT_EQ(run.child.exit_code, 1);
  EXPECT_NE(error.find("--max-memory"), std::string::npos) << error;
  EXPECT_NE(error.find("256 x 256 x 30"), std::string::npos) << error;
}

TEST_F(BadInput, MaxMemoryRejectsNonsense) {
  for (const char* bad : {"lots", "-1G", "0", "12Q"}) {
    const ChildResult r = runChild({CTD_CLI, "-i", root_.string(), "-o", out_.string(), "--max-memory", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--max-memory"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out_));
  }
}

}  // namespace
}  // namespace ctd::test
