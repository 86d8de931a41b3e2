// libpng writer/reader of the QC pictures: what is written reads back pixel for
// pixel, colour keeps OpenCV's BGR order, and a failed write leaves no file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/Error.h"
#include "qc/PngFile.h"

namespace fs = std::filesystem;
using namespace ctd;

namespace {
fs::path scratch(const std::string& name) {
  const fs::path d = fs::path(CTD_BINARY_DIR) / "qc-png-test" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(PngFile, GrayRoundTrip) {
  const fs::path d = scratch("gray");
  cv::Mat img(37, 53, CV_8UC1);
  cv::randu(img, 0, 256);
  qc::writePng(d / "sub" / "a.png", img);
  EXPECT_FALSE(fs::exists(d / "sub" / "a.png.tmp"));
  std::ifstream f(d / "sub" / "a.png", std::ios::binary);
  char magic[8] = {};
  f.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  const cv::Mat back = qc::readPng(d / "sub" / "a.png");
  ASSERT_EQ(back.type(), CV_8UC1);
  ASSERT_EQ(back.size(), img.size());
  EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0);
}

TEST(PngFile, ColourKeepsBgrOrderAndRoi) {
  const fs::path d = scratch("bgr");
  cv::Mat big(40, 60, CV_8UC3);
  cv::randu(big, 0, 256);
  big.at<cv::Vec3b>(5, 7) = cv::Vec3b(255, 0, 0);  // blue in OpenCV's order
  const cv::Mat roi = big(cv::Rect(3, 2, 30, 20));  // not continuous: row strides differ
  qc::writePng(d / "c.png", roi);
  const cv::Mat back = qc::readPng(d / "c.png");
  ASSERT_EQ(back.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(back, roi, cv::NORM_INF), 0);
  EXPECT_EQ(back.at<cv::Vec3b>(3, 4), cv::Vec3b(255, 0, 0));
}

TEST(PngFile, FailuresThrowAndLeaveNothing) {
  const fs::path d = scratch("fail");
  std::ofstream(d / "file") << "x";
  // The parent "directory" is a file: cannot be created.
  EXPECT_THROW(qc::writePng(d / "file" / "a.png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(1))), std::exception);
  EXPECT_THROW(qc::writePng(d / "f.png", cv::Mat(4, 4, CV_32FC1, cv::Scalar(1))), Error);
  EXPECT_FALSE(fs::exists(d / "f.png"));
  std::ofstream(d / "bad.png") << "not a png at all";
  EXPECT_THROW(qc::readPng(d / "bad.png"), Error);
  EXPECT_THROW(qc::readPng(d / "missing.png"), Error);
}
