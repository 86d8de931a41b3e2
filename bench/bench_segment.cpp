// Where the time of the `geometric` segmenter goes, on a DICOM series (e.g. a
// 512 x 512 x 300 phantom from ctdeface-phantom).
//
//   bench_segment SERIES_DIR [--repeats N] [--verify]
//
// Prints the wall time of GeometricSegmenter::segment (best of N) and then the
// same stages run one by one through the public functions it is built from
// (resampleInto, CoarseMorphology, maskToNative, the native hard guard), with
// the coarse masks the segmenter would build stood in for by simple ones of a
// similar size (the stage timings are what matter, not the masks). Not a test.
// --verify first checks that the fast CoarseMorphology and maskToNative give
// exactly what the ITK filters and the previous full-volume maskToNative gave,
// on the series' coarse masks, random masks and tilted / oblique / uneven geometries.
#include <itkBinaryBallStructuringElement.h>
#include <itkBinaryDilateImageFilter.h>
#include <itkBinaryErodeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkImage.h>
#include <itkMeanImageFilter.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "segment/CoarseMorphology.h"
#include "segment/GeometricSegmenter.h"
#include "volume/GridResampler.h"
#include "volume/SliceThreads.h"

namespace {

using Clock = std::chrono::steady_clock;
using ctd::coarse::Bits;
using ctd::coarse::Grid;
using ctd::operator+;
using ctd::operator-;
using ctd::operator*;

// Best time of each stage over the repeats (the machine is shared: the
// minimum is the least disturbed run).
struct Lap {
  Clock::time_point t = Clock::now();
  std::vector<std::pair<std::string, double>>* best;
  std::size_t at = 0;
  void operator()(const char* what) {
    const auto now = Clock::now();
    const double s = std::chrono::duration<double>(now - t).count();
    if (at == best->size()) best->push_back({what, s});
    (*best)[at].second = std::min((*best)[at].second, s);
    ++at;
    t = now;
  }
};

// The segmenter's padded coarse LPS grid (one extra voxel on every side).
ctd::Volume paddedGrid(const ctd::Volume& v, double spacing) {
  ctd::Volume g = ctd::lpsGridFor(v, spacing);
  ctd::Volume p;
  p.nx = g.nx + 2, p.ny = g.ny + 2, p.nz = g.nz + 2;
  p.col_spacing = p.row_spacing = spacing;
  const ctd::Vec3 origin = g.slice_pos.front() - ctd::Vec3{spacing, spacing, spacing};
  for (std::size_t k = 0; k < p.nz; ++k)
    p.slice_pos.push_back(origin + ctd::Vec3{0, 0, spacing * static_cast<double>(k)});
  return p;
}


// ---- references: the implementations the fast ones replace ----------------

using MaskImage = itk::Image<std::uint8_t, 3>;
using FloatImage = itk::Image<float, 3>;
using LabelImage = itk::Image<std::uint32_t, 3>;
using Ball = itk::BinaryBallStructuringElement<std::uint8_t, 3>;

template <class Image, class T>
typename Image::Pointer toItk(const std::vector<T>& data, const Grid& g) {
  auto img = Image::New();
  typename Image::RegionType region;
  region.SetSize({{g.nx, g.ny, g.nz}});
  img->SetRegions(region);
  const double sp[3] = {g.spacing, g.spacing, g.spacing};
  img->SetSpacing(sp);
  img->Allocate();
  std::copy(data.begin(), data.end(), img->GetBufferPointer());
  return img;
}
template <class T, class Image>
std::vector<T> fromItk(Image* img, const Grid& g) {
  const auto* p = img->GetBufferPointer();
  return std::vector<T>(p, p + g.size());
}
Ball ball(int radius) {
  Ball b;
  b.SetRadius(static_cast<unsigned long>(radius));
  b.CreateStructuringElement();
  return b;
}
Bits refDilate(const Bits& m, const Grid& g, int radius) {
  auto f = itk::BinaryDilateImageFilter<MaskImage, MaskImage, Ball>::New();
  f->SetInput(toItk<MaskImage>(m, g));
  f->SetKernel(ball(radius));
  f->SetForegroundValue(1);
  f->SetBackgroundValue(0);
  f->Update();
  return fromItk<std::uint8_t>(f->GetOutput(), g);
}
Bits refErode(const Bits& m, const Grid& g, int radius) {
  auto f = itk::BinaryErodeImageFilter<MaskImage, MaskImage, Ball>::New();
  f->SetInput(toItk<MaskImage>(m, g));
  f->SetKernel(ball(radius));
  f->SetForegroundValue(1);
  f->SetBackgroundValue(0);
  f->SetBoundaryToForeground(true);
  f->Update();
  return fromItk<std::uint8_t>(f->GetOutput(), g);
}
ctd::coarse::Components refComponents(const Bits& m, const Grid& g) {
  auto cc = itk::ConnectedComponentImageFilter<MaskImage, LabelImage>::New();
  cc->SetInput(toItk<MaskImage>(m, g));
  cc->FullyConnectedOff();
  auto rl = itk::RelabelComponentImageFilter<LabelImage, LabelImage>::New();
  rl->SetInput(cc->GetOutput());
  rl->Update();
  ctd::coarse::Components c;
  c.label = fromItk<std::uint32_t>(rl->GetOutput(), g);
  for (auto sz : rl->GetSizeOfObjectsInPixels()) c.sizes.push_back(sz);
  return c;
}
std::vector<float> refBoxMean(const std::vector<float>& v, const Grid& g, int radius) {
  auto f = itk::MeanImageFilter<FloatImage, FloatImage>::New();
  f->SetInput(toItk<FloatImage>(v, g));
  FloatImage::SizeType r;
  r.Fill(static_cast<unsigned long>(radius));
  f->SetRadius(r);
  f->Update();
  return fromItk<float>(f->GetOutput(), g);
}

std::vector<float> refSignedDistance(const Bits& m, const Grid& g) {
  auto d = itk::SignedMaurerDistanceMapImageFilter<MaskImage, FloatImage>::New();
  d->SetInput(toItk<MaskImage>(m, g));
  d->SetUseImageSpacing(true);
  d->SetSquaredDistance(false);
  d->SetInsideIsPositive(false);
  d->SetBackgroundValue(0);
  d->Update();
  return fromItk<float>(d->GetOutput(), g);
}

// The fill before the per-slice 2-D buffers.
Bits refFillHoles(const Bits& m, const Grid& g, unsigned dim) {
  // A flood fill of the background from each slice's border, linear in the
  // voxel count: itk::SliceBySliceImageFilter + BinaryFillholeImageFilter
  // builds a pipeline per slice and took ~0.4 s per direction on a 130^3 grid.
  const std::size_t n[3] = {g.nx, g.ny, g.nz};
  const unsigned ua = dim == 0 ? 1 : 0, ub = dim == 2 ? 1 : 2;  // in-slice axes
  const std::size_t stride[3] = {1, g.nx, g.nx * g.ny};
  Bits out(m.size(), 1);  // 1 = foreground or hole until reached from the border
  std::vector<std::size_t> stack;
  for (std::size_t s = 0; s < n[dim]; ++s) {
    const std::size_t base = s * stride[dim];
    auto seed = [&](std::size_t a, std::size_t b) {
      const std::size_t idx = base + a * stride[ua] + b * stride[ub];
      if (!m[idx] && out[idx]) {
        out[idx] = 0;
        stack.push_back(idx);
      }
    };
    for (std::size_t a = 0; a < n[ua]; ++a) seed(a, 0), seed(a, n[ub] - 1);
    for (std::size_t b = 0; b < n[ub]; ++b) seed(0, b), seed(n[ua] - 1, b);
    while (!stack.empty()) {
      const std::size_t idx = stack.back();
      stack.pop_back();
      const std::size_t a = (idx / stride[ua]) % n[ua], b = (idx / stride[ub]) % n[ub];
      auto visit = [&](std::size_t next) {
        if (!m[next] && out[next]) {
          out[next] = 0;
          stack.push_back(next);
        }
      };
      if (a > 0) visit(idx - stride[ua]);
      if (a + 1 < n[ua]) visit(idx + stride[ua]);
      if (b > 0) visit(idx - stride[ub]);
      if (b + 1 < n[ub]) visit(idx + stride[ub]);
    }
  }
  return out;
}

// The full-volume maskToNative before the bounding-box restriction.
std::size_t refBracket(const std::vector<double>& off, double w, std::size_t s) {
  const std::size_t last = off.size() - 1;
  if (last == 0) return 0;
  s = std::min(s, last - 1);
  while (s + 1 < last && w >= off[s + 1]) ++s;
  while (s > 0 && w < off[s]) --s;
  return s;
}
ctd::VoxelMask refMaskToNative(const ctd::VoxelMask& grid_mask, const ctd::Volume& grid, const ctd::Volume& native) {
  using ctd::dot;
  ctd::VoxelMask out = ctd::VoxelMask::like(native);
  const ctd::Vec3& o = grid.slice_pos[0];
  std::vector<double> off(grid.nz), ga(grid.nz), gb(grid.nz);
  for (std::size_t s = 0; s < grid.nz; ++s) {
    off[s] = dot(grid.slice_pos[s] - grid.slice_pos[0], grid.normal);
    ga[s] = dot(grid.slice_pos[s] - o, grid.row_dir) / grid.col_spacing;
    gb[s] = dot(grid.slice_pos[s] - o, grid.col_dir) / grid.row_spacing;
  }
  const double end_half_gap = grid.nz > 1 ? 0.5 * std::abs(off[1] - off[0]) : 0.5 * grid.col_spacing;
  const double half_last = grid.nz > 1 ? 0.5 * std::abs(off[grid.nz - 1] - off[grid.nz - 2]) : end_half_gap;
  const double wlo = off.front() - end_half_gap, whi = off.back() + half_last;
  const ctd::Vec3 nx_step = native.col_spacing * native.row_dir, ny_step = native.row_spacing * native.col_dir;
  const double dw_i = dot(nx_step, grid.normal), da_i = dot(nx_step, grid.row_dir) / grid.col_spacing,
               db_i = dot(nx_step, grid.col_dir) / grid.row_spacing;
  const double dw_j = dot(ny_step, grid.normal), da_j = dot(ny_step, grid.row_dir) / grid.col_spacing,
               db_j = dot(ny_step, grid.col_dir) / grid.row_spacing;
  const double amax = static_cast<double>(grid.nx) - 0.5, bmax = static_cast<double>(grid.ny) - 0.5;
  for (std::size_t k = 0; k < native.nz; ++k) {
    const ctd::Vec3 base = native.slice_pos[k] - o;
    const double w_k = dot(base, grid.normal), a_k = dot(base, grid.row_dir) / grid.col_spacing,
                 b_k = dot(base, grid.col_dir) / grid.row_spacing;
    std::size_t s = 0;
    std::uint8_t* dst = &out.data[k * native.ny * native.nx];
    for (std::size_t j = 0; j < native.ny; ++j) {
      const double jd = static_cast<double>(j);
      const double w_j = w_k + jd * dw_j, a_j = a_k + jd * da_j, b_j = b_k + jd * db_j;
      for (std::size_t i = 0; i < native.nx; ++i, ++dst) {
        const double id = static_cast<double>(i);
        const double w = w_j + id * dw_i;
        if (w < wlo || w > whi) continue;
        s = refBracket(off, w, s);
        std::size_t gk = s;
        if (grid.nz > 1 && std::abs(off[s + 1] - w) < std::abs(w - off[s])) gk = s + 1;
        const double a = a_j + id * da_i - ga[gk], b = b_j + id * db_i - gb[gk];
        if (a < -0.5 || a >= amax || b < -0.5 || b >= bmax) continue;
        const auto gi = static_cast<std::size_t>(std::max(0.0, std::floor(a + 0.5)));
        const auto gj = static_cast<std::size_t>(std::max(0.0, std::floor(b + 0.5)));
        *dst = grid_mask.data[(gk * grid.ny + gj) * grid.nx + gi] ? 1 : 0;
      }
    }
  }
  return out;
}

int failures = 0;
void check(bool same, const std::string& what) {
  if (!same) ++failures;
  std::printf("  %-60s %s\n", what.c_str(), same ? "same" : "DIFFERENT");
}

void verifyMorphology(const Bits& m, const Grid& g, const std::string& name) {
  for (int r = 1; r <= 3; ++r) {
    check(ctd::coarse::dilate(m, g, r) == refDilate(m, g, r), name + " dilate r" + std::to_string(r));
    check(ctd::coarse::erode(m, g, r) == refErode(m, g, r), name + " erode r" + std::to_string(r));
  }
  for (unsigned dim = 0; dim < 3; ++dim)
    check(ctd::coarse::fillHolesPerSlice(m, g, dim) == refFillHoles(m, g, dim), name + " fillHoles dim " + std::to_string(dim));
  {
    const std::vector<float> x = ctd::coarse::signedDistance(m, g), y = refSignedDistance(m, g);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const bool diff = std::memcmp(&x[i], &y[i], sizeof(float)) != 0;
      if (diff && differ < 3)
        std::printf("    voxel (%zu %zu %zu) in mask %d: %.9g vs ITK %.9g\n", i % g.nx, (i / g.nx) % g.ny, i / (g.nx * g.ny),
                    m[i], x[i], y[i]);
      differ += diff;
    }
    check(differ == 0, name + " signedDistance (" + std::to_string(differ) + " voxels differ)");
  }
  const auto a = ctd::coarse::components(m, g), b = refComponents(m, g);
  check(a.label == b.label && a.sizes == b.sizes, name + " components (" + std::to_string(a.sizes.size()) + ")");
}

// A geometry-only copy of `v` with its slices moved and its axes turned.
ctd::Volume reshaped(const ctd::Volume& v, double tilt_deg, double yaw_deg, bool uneven) {
  ctd::Volume out;
  out.nx = v.nx, out.ny = v.ny, out.nz = v.nz;
  out.col_spacing = v.col_spacing, out.row_spacing = v.row_spacing;
  const double t = yaw_deg * M_PI / 180, c = std::cos(t), s = std::sin(t);
  out.row_dir = {c, s, 0};
  out.col_dir = {-s, c, 0};
  out.normal = {0, 0, 1};
  const double shear = std::tan(tilt_deg * M_PI / 180);
  double z = v.slice_pos[0][2];
  for (std::size_t k = 0; k < v.nz; ++k) {
    const double step = uneven && k % 7 == 3 ? 1.3 : 0.69;
    if (k > 0) z += step;
    const double dz = z - v.slice_pos[0][2];
    out.slice_pos.push_back({v.slice_pos[0][0] + 7.3, v.slice_pos[0][1] + shear * dz - 3.1, z});
  }
  return out;
}

void verify(const ctd::Volume& v) {
  std::printf("verify:\n");
  ctd::Volume grid = paddedGrid(v, 2.0);
  ctd::resampleInto(v, grid, -5000.0f);
  const Grid g{grid.nx, grid.ny, grid.nz, 2.0};
  const std::size_t n = g.size();
  Bits tissue(n), bone(n);
  std::vector<float> hu_in(n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool fov = grid.hu[i] > -2500.0f;
    tissue[i] = fov && grid.hu[i] > -400;
    bone[i] = fov && grid.hu[i] > 300;
    hu_in[i] = fov ? grid.hu[i] : 0.0f;
  }
  verifyMorphology(tissue, g, "series tissue");
  verifyMorphology(bone, g, "series bone");
  check(ctd::coarse::boxMean(hu_in, g, 1) == refBoxMean(hu_in, g, 1), "series boxMean r1");
  std::mt19937 rng(7);
  const Grid small{37, 29, 23, 2.0};
  for (double density : {0.0, 0.02, 0.3, 0.6, 0.95, 1.0}) {
    std::bernoulli_distribution coin(density);
    Bits m(small.size());
    for (auto& b : m) b = coin(rng);
    verifyMorphology(m, small, "random " + std::to_string(density));
  }
  std::vector<float> noise(small.size());
  std::normal_distribution<float> hu(20.0f, 300.0f);
  for (auto& x : noise) x = hu(rng);
  check(ctd::coarse::boxMean(noise, small, 1) == refBoxMean(noise, small, 1), "random boxMean r1");
  check(ctd::coarse::boxMean(noise, small, 2) == refBoxMean(noise, small, 2), "random boxMean r2");

  // maskToNative: a face-like block, a sparse random mask and a full mask,
  // onto the series' own geometry and tilted, oblique and uneven ones.
  ctd::VoxelMask block(g.nx, g.ny, g.nz), sparse(g.nx, g.ny, g.nz), full(g.nx, g.ny, g.nz);
  std::bernoulli_distribution rare(0.001);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        block.data[idx] = tissue[idx] && j < g.ny / 3 && k > g.nz / 4 && k < 3 * g.nz / 4;
        sparse.data[idx] = rare(rng);
        full.data[idx] = 1;
      }
  struct Shape {
    const char* name;
    double tilt, yaw;
    bool uneven;
  };
  for (const Shape& sh : {Shape{"native", 0, 0, false}, Shape{"tilt 20", 20, 0, false}, Shape{"yaw 30", 0, 30, false},
                          Shape{"tilt -15 yaw 10 uneven", -15, 10, true}}) {
    const ctd::Volume native = sh.tilt == 0 && sh.yaw == 0 && !sh.uneven ? v : reshaped(v, sh.tilt, sh.yaw, sh.uneven);
    for (const auto& [mname, m] : {std::pair<const char*, const ctd::VoxelMask*>{"block", &block},
                                   {"sparse", &sparse}, {"full", &full}})
      check(ctd::maskToNative(*m, grid, native).data == refMaskToNative(*m, grid, native).data,
            std::string("maskToNative ") + mname + " onto " + sh.name);
  }
  // A sheared grid (regularGridFor of a tilted stack) as the source too.
  const ctd::Volume tilted = reshaped(v, 20, 0, false);
  ctd::Volume sheared;
  sheared.nx = 64, sheared.ny = 64, sheared.nz = 40;
  sheared.col_spacing = sheared.row_spacing = 4.0;
  sheared.row_dir = tilted.row_dir, sheared.col_dir = tilted.col_dir, sheared.normal = tilted.normal;
  for (std::size_t k = 0; k < sheared.nz; ++k)
    sheared.slice_pos.push_back(tilted.slice_pos[0] + ctd::Vec3{0, 0.36 * 5.0 * double(k), 5.0 * double(k)});
  ctd::VoxelMask sm(sheared.nx, sheared.ny, sheared.nz);
  for (std::size_t q = 0; q < sm.data.size(); ++q) sm.data[q] = (q % 64 > 20 && q % 64 < 40 && (q / 4096) % 3) ? 1 : 0;
  check(ctd::maskToNative(sm, sheared, tilted).data == refMaskToNative(sm, sheared, tilted).data,
        "maskToNative sheared grid onto tilted");
}

double timeSegment(const ctd::Volume& v, int repeats, std::size_t& voxels) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    ctd::GeometricSegmenter seg;
    const auto t0 = Clock::now();
    const ctd::FaceSegmentation out = seg.segment(v);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    voxels = out.mask.count();
  }
  return best;
}

std::size_t stages(const ctd::Volume& v, std::vector<std::pair<std::string, double>>& best) {
  const double c = 2.0;
  Lap lap{Clock::now(), &best};
  ctd::Volume grid = paddedGrid(v, c);
  ctd::resampleInto(v, grid, -5000.0f);
  lap("resampleInto (native -> 2 mm LPS)");
  const Grid g{grid.nx, grid.ny, grid.nz, c};
  const std::size_t n = g.size();
  Bits fov(n), tissue(n), bone(n);
  std::vector<float> hu_in(n), in(n);
  for (std::size_t i = 0; i < n; ++i) {
    fov[i] = grid.hu[i] > -2500.0f;
    tissue[i] = fov[i] && grid.hu[i] > -400;
    bone[i] = fov[i] && grid.hu[i] > 300;
    hu_in[i] = fov[i] ? grid.hu[i] : 0.0f;
    in[i] = fov[i] ? 1.0f : 0.0f;
  }
  const std::vector<float> smooth = ctd::coarse::boxMean(hu_in, g, 1);
  const std::vector<float> frac = ctd::coarse::boxMean(in, g, 1);
  lap("boxMean x2");
  Bits body = ctd::coarse::largestComponent(ctd::coarse::open(tissue, g, 1), g);
  const Bits near = ctd::coarse::dilate(body, g, 2);
  for (std::size_t i = 0; i < n; ++i) body[i] = near[i] && tissue[i];
  body = ctd::coarse::largestComponent(body, g);
  lap("body: open, largest x2, dilate r2");
  Bits body_filled = ctd::coarse::fillHolesPerSlice(body, g, 2);
  for (unsigned dim = 0; dim < 2; ++dim) {
    const Bits f = ctd::coarse::fillHolesPerSlice(body, g, dim);
    for (std::size_t i = 0; i < n; ++i) body_filled[i] = body_filled[i] || f[i];
  }
  lap("body fillHolesPerSlice x3");
  // Cavity stand-in: the bone wall's enclosed soft tissue.
  const Bits wall = ctd::coarse::close(bone, g, 1);
  std::vector<std::uint8_t> votes(n, 0);
  for (unsigned dim = 0; dim < 3; ++dim) {
    const Bits filled = ctd::coarse::fillHolesPerSlice(wall, g, dim);
    for (std::size_t i = 0; i < n; ++i) votes[i] += filled[i] && !wall[i];
  }
  Bits cand(n, 0);
  for (std::size_t i = 0; i < n; ++i) cand[i] = votes[i] >= 2 && fov[i] && smooth[i] > -20 && smooth[i] < 100;
  const Bits core = ctd::coarse::largestComponent(ctd::coarse::erode(cand, g, 1), g);
  Bits grown = ctd::coarse::dilate(core, g, 2);
  for (std::size_t i = 0; i < n; ++i) grown[i] = grown[i] && cand[i];
  const Bits wall_near = ctd::coarse::dilate(wall, g, 3);
  const Bits thick = ctd::coarse::erode(grown, g, 3);
  const Bits cav = ctd::coarse::fillHolesPerSlice(grown, g, 2);
  lap("cavity: close, fill x4, erode, cc, dil r2/r3, ero r3");
  const std::vector<float> dcav = ctd::coarse::signedDistance(cav, g);
  Bits solid(n);
  for (std::size_t i = 0; i < n; ++i) solid[i] = body_filled[i] || !fov[i];
  std::vector<float> depth = ctd::coarse::signedDistance(solid, g);
  lap("signedDistance x2");
  // Face stand-in: body within 20 mm of the skin, 15 mm from the cavity, in the anterior half.
  ctd::VoxelMask mask(g.nx, g.ny, g.nz);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny / 2; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        mask.data[idx] = body_filled[idx] && -depth[idx] <= 20 && dcav[idx] >= 15;
      }
  mask.data = ctd::coarse::dilate(mask.data, g, 1);
  lap("face stand-in + dilate r1");
  ctd::VoxelMask native = ctd::maskToNative(mask, grid, v);
  lap("maskToNative");
  // The guard as recommended for GeometricSegmenter.cpp: the same per-voxel
  // arithmetic, slices shared by two threads.
  {
    ctd::VoxelMask copy = native;
    const ctd::Vec3 o = grid.slice_pos.front();
    lap.t = Clock::now();
    std::vector<std::size_t> kept_in(v.nz, 0);
    ctd::forEachSlice(v.nz, v.nx * v.ny, [&](std::size_t k) {
      for (std::size_t j = 0; j < v.ny; ++j) {
        std::uint8_t* row = &copy.data[(k * v.ny + j) * v.nx];
        for (std::size_t i = 0; i < v.nx; ++i) {
          if (!row[i]) continue;
          const ctd::Vec3 p = v.world(static_cast<double>(i), static_cast<double>(j), k);
          if (ctd::coarse::sampleField(dcav, g, o, p, 0.0f) < 8)
            row[i] = 0;
          else
            ++kept_in[k];
        }
      }
    });
    lap("hard guard on 2 threads (recommended)");
  }
  lap.t = Clock::now();
  const ctd::Vec3 origin = grid.slice_pos.front();
  std::size_t kept = 0;
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j) {
      const std::size_t row = (k * v.ny + j) * v.nx;
      for (std::size_t i = 0; i < v.nx; ++i) {
        if (!native.data[row + i]) continue;
        const ctd::Vec3 p = v.world(static_cast<double>(i), static_cast<double>(j), k);
        if (ctd::coarse::sampleField(dcav, g, origin, p, 0.0f) < 8)
          native.data[row + i] = 0;
        else
          ++kept;
      }
    }
  lap("hard guard (trilinear d_cav per masked voxel)");
  return kept;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_segment SERIES_DIR [--repeats N]\n");
    return 2;
  }
  int repeats = 3;
  bool do_verify = false;
  for (int a = 2; a < argc; ++a) {
    if (std::strcmp(argv[a], "--repeats") == 0 && a + 1 < argc) repeats = std::atoi(argv[a + 1]);
    if (std::strcmp(argv[a], "--verify") == 0) do_verify = true;
  }
  try {
    const ctd::Discovery found = ctd::discoverCases(argv[1]);
    const ctd::CaseInventory inv = ctd::assembleCase(found.cases.at(0));
    const ctd::Volume v = ctd::loadVolume(inv, inv.stacks.at(0));
    double load[3] = {0, 0, 0};
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
      if (std::fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1;
      std::fclose(f);
    }
    std::printf("volume %zux%zux%zu, load average %.2f\n", v.nx, v.ny, v.nz, load[0]);
    if (do_verify) {
      verify(v);
      std::printf("verify: %d difference(s)\n", failures);
    }
    std::size_t voxels = 0;
    const double t = timeSegment(v, repeats, voxels);
    std::printf("GeometricSegmenter::segment  best of %d: %.3f s (%zu face voxels)\n", repeats, t, voxels);
    std::vector<std::pair<std::string, double>> best;
    std::size_t kept = 0;
    for (int r = 0; r < repeats; ++r) kept = stages(v, best);
    std::printf("stages (best of %d, stand-in masks, %zu native voxels kept by the guard):\n", repeats, kept);
    double sum = 0;
    for (const auto& [what, t] : best) {
      std::printf("  %-52s %7.3f s\n", what.c_str(), t);
      if (what.find("recommended") == std::string::npos) sum += t;
    }
    std::printf("  %-52s %7.3f s\n", "sum", sum);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_segment: %s\n", e.what());
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
