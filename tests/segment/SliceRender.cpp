#include "SliceRender.h"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkPNGImageIO.h>
#include <itkRGBPixel.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace ctd::testing {
namespace {

using Rgb = itk::RGBPixel<unsigned char>;
using RgbImage = itk::Image<Rgb, 2>;

RgbImage::Pointer makeImage(std::size_t w, std::size_t h) {
  auto img = RgbImage::New();
  RgbImage::RegionType r;
  r.SetSize({{w, h}});
  img->SetRegions(r);
  img->Allocate();
  Rgb black;
  black.Fill(0);
  img->FillBuffer(black);
  return img;
}

void put(RgbImage* img, std::size_t x, std::size_t y, double hu, bool masked, double lo, double hi) {
  const double g = std::clamp((hu - lo) / (hi - lo), 0.0, 1.0) * 255.0;
  Rgb px;
  px[0] = static_cast<unsigned char>(masked ? std::min(255.0, 90 + g) : g);
  px[1] = static_cast<unsigned char>(masked ? g * 0.4 : g);
  px[2] = static_cast<unsigned char>(masked ? g * 0.4 : g);
  img->SetPixel({{static_cast<long>(x), static_cast<long>(y)}}, px);
}

void save(RgbImage* img, const std::filesystem::path& file) {
  std::filesystem::create_directories(file.parent_path());
  auto w = itk::ImageFileWriter<RgbImage>::New();
  w->SetImageIO(itk::PNGImageIO::New());
  w->SetFileName(file.string());
  w->SetInput(img);
  w->Update();
}

}  // namespace

std::filesystem::path renderDir() {
  const char* d = std::getenv("CTD_RENDER_DIR");
  return d ? std::filesystem::path(d) : std::filesystem::path();
}

void writeAxialPng(const Volume& v, const VoxelMask* mask, std::size_t k, const std::filesystem::path& file,
                   double lo, double hi) {
  auto img = makeImage(v.nx, v.ny);
  for (std::size_t j = 0; j < v.ny; ++j)
    for (std::size_t i = 0; i < v.nx; ++i)
      put(img, i, j, v.at(i, j, k), mask && mask->at(i, j, k), lo, hi);
  save(img, file);
}

void writeSagittalPng(const Volume& v, const VoxelMask* mask, double x_lps, const std::filesystem::path& file,
                      double lo, double hi) {
  // Nearest native voxel for every (y, z) on a 1 mm raster of the plane.
  double ymin = 1e9, ymax = -1e9, zmin = 1e9, zmax = -1e9;
  for (std::size_t k = 0; k < v.nz; k += std::max<std::size_t>(1, v.nz - 1))
    for (double a : {0.0, static_cast<double>(v.nx - 1)})
      for (double b : {0.0, static_cast<double>(v.ny - 1)}) {
        const Vec3 p = v.world(a, b, k);
        ymin = std::min(ymin, p[1]), ymax = std::max(ymax, p[1]);
        zmin = std::min(zmin, p[2]), zmax = std::max(zmax, p[2]);
      }
  const std::size_t w = static_cast<std::size_t>(ymax - ymin) + 1, h = static_cast<std::size_t>(zmax - zmin) + 1;
  auto img = makeImage(w, h);
  for (std::size_t k = 0; k < v.nz; ++k) {
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const Vec3 p = v.world(static_cast<double>(i), static_cast<double>(j), k);
        if (std::abs(p[0] - x_lps) > std::max(v.col_spacing, 0.5)) continue;
        const std::size_t x = static_cast<std::size_t>(std::clamp(p[1] - ymin, 0.0, w - 1.0));
        const std::size_t y = static_cast<std::size_t>(std::clamp(zmax - p[2], 0.0, h - 1.0));
        // Thick slices: paint the slice's extent along z so the view has no gaps.
        const double half = k + 1 < v.nz ? (v.slice_pos[k + 1][2] - v.slice_pos[k][2]) / 2
                                         : (k > 0 ? (v.slice_pos[k][2] - v.slice_pos[k - 1][2]) / 2 : 0.5);
        for (long dy = -static_cast<long>(half); dy <= static_cast<long>(half); ++dy) {
          const long yy = static_cast<long>(y) + dy;
          if (yy < 0 || yy >= static_cast<long>(h)) continue;
          put(img, x, static_cast<std::size_t>(yy), v.at(i, j, k), mask && mask->at(i, j, k), lo, hi);
        }
      }
  }
  save(img, file);
}

}  // namespace ctd::testing
