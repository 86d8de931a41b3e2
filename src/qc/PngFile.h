#pragma once
// PNG files of 8-bit images with libpng: the QC pictures are the only images
// ctdeface writes, and OpenCV's imgcodecs would load a hundred codec libraries
// (GDAL, poppler, x265...) into every run for them.
#include <filesystem>
#include <opencv2/core.hpp>

namespace ctd::qc {

// Writes CV_8UC1 (gray) or CV_8UC3 (OpenCV's BGR order) beside `file` and
// renames it into place, so a crash leaves no half image. Throws ctd::Error.
void writePng(const std::filesystem::path& file, const cv::Mat& image);

// Reads an 8-bit PNG back: CV_8UC1 for gray files, CV_8UC3 (BGR) for colour
// ones (alpha dropped). Throws ctd::Error.
cv::Mat readPng(const std::filesystem::path& file);

}  // namespace ctd::qc
