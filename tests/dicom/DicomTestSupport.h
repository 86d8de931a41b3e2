#pragma once
// Helpers shared by the dicom module tests: scratch folders, synthetic
// volumes with known values, and an independent GDCM read of one pixel.
#include <gdcmImage.h>
#include <gdcmImageReader.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "volume/Volume.h"

namespace ctd::test {

inline std::filesystem::path sharedData(const std::string& rel) { return std::filesystem::path(CTD_SHARED_DATA) / rel; }

// A fresh, empty folder under the build tree, unique per test name.
inline std::filesystem::path scratchDir(const std::string& name) {
  const auto dir = std::filesystem::path(CTD_BINARY_DIR) / "test-scratch" / "dicom" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// nx x ny x nz volume with distinct integer HU values in [lo, lo + range) and
// axial geometry starting at `origin` with `gap` mm between slices.
inline Volume patternVolume(std::size_t nx, std::size_t ny, std::size_t nz, int lo = -1024, int range = 3000,
                            unsigned seed = 7) {
  Volume v;
  v.nx = nx;
  v.ny = ny;
  v.nz = nz;
  v.hu.resize(v.voxelCount());
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(lo, lo + range - 1);
  for (auto& h : v.hu) h = static_cast<float>(dist(rng));
  v.col_spacing = 0.75;
  v.row_spacing = 0.8;
  for (std::size_t k = 0; k < nz; ++k) v.slice_pos.push_back({-20.0, -30.5, 10.0 + 2.5 * double(k)});
  return v;
}

// Stored value of pixel (row, col) of frame `frame`, read with GDCM directly
// (independent of ctd::decodePixels), sign handled from PixelRepresentation.
inline std::int32_t gdcmStoredValue(const std::filesystem::path& file, unsigned row, unsigned col,
                                    unsigned frame = 0) {
  gdcm::ImageReader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.Read()) throw std::runtime_error("gdcm cannot read " + file.string());
  const gdcm::Image& img = reader.GetImage();
  std::vector<char> buf(img.GetBufferLength());
  img.GetBuffer(buf.data());
  const unsigned nx = img.GetDimension(0), ny = img.GetDimension(1);
  const std::size_t idx = (std::size_t(frame) * ny + row) * nx + col;
  const gdcm::PixelFormat pf = img.GetPixelFormat();
  if (pf.GetBitsAllocated() == 8) return static_cast<std::uint8_t>(buf[idx]);
  std::uint16_t w;
  std::memcpy(&w, buf.data() + 2 * idx, 2);
  const unsigned bs = pf.GetBitsStored(), shift = pf.GetHighBit() + 1 - bs;
  std::uint32_t v = (w >> shift) & ((1u << bs) - 1u);
  if (pf.GetPixelRepresentation() == 1 && (v >> (bs - 1)) & 1u) return std::int32_t(v) - std::int32_t(1u << bs);
  return std::int32_t(v);
}

}  // namespace ctd::test
