#include "volume/NiftiIO.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <memory>

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIO.h>
#include <zlib.h>

#include "core/Error.h"
#include "volume/GridResampler.h"
#include "volume/SliceThreads.h"
#include "volume/StackGeometry.h"

namespace ctd {

namespace {

// Air in HU: what a resampled grid holds where the tilted stack has no data.
constexpr float kOutsideHu = -1024.0f;

// Distance between consecutive slices of a stack written as-is (regular stacks
// and grids): the mean gap, so the first and last slices are exact.
double sliceStep(const Volume& v) {
  if (v.nz < 2) return 1.0;  // one slice: NIfTI needs some positive spacing
  return dot(v.slice_pos.back() - v.slice_pos.front(), v.normal) / static_cast<double>(v.nz - 1);
}

bool isGzipped(const std::filesystem::path& file) { return file.string().ends_with(".gz"); }

// gzip level 1: ITK 5.2's NIfTI writer ignores SetCompressionLevel and spends
// ~3x the CPU (4 s on a 512 x 611 x 135 grid) for a file only ~6 % smaller.
void gzipInto(const std::filesystem::path& plain, const std::filesystem::path& file) {
  const std::filesystem::path partial = file.string() + ".partial";
  std::FILE* in = std::fopen(plain.c_str(), "rb");
  if (!in) throw Error(plain, "cannot read temporary NIfTI");
  gzFile out = gzopen(partial.c_str(), "wb1");
  if (!out) {
    std::fclose(in);
    throw Error(file, "cannot write NIfTI");
  }
  gzbuffer(out, 1 << 20);
  std::vector<char> buf(4 << 20);
  bool ok = true;
  for (std::size_t n; ok && (n = std::fread(buf.data(), 1, buf.size(), in)) > 0;)
    ok = gzwrite(out, buf.data(), static_cast<unsigned>(n)) == static_cast<int>(n);
  ok = !std::ferror(in) && ok;
  std::fclose(in);
  ok = gzclose(out) == Z_OK && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(partial, file, ec);
  if (!ok || ec) {
    std::filesystem::remove(partial, ec);
    throw Error(file, "cannot write NIfTI (disk full?)");
  }
}

// ITK takes LPS origin/direction and writes RAS qform/sform itself.
template <class T>
void writeImage(const Volume& g, const T* pixels, const std::filesystem::path& file) {
  using Image = itk::Image<T, 3>;
  auto img = Image::New();
  typename Image::SizeType size;
  size[0] = g.nx;
  size[1] = g.ny;
  size[2] = g.nz;
  typename Image::RegionType region;
  region.SetSize(size);
  img->SetRegions(region);
  // Same i-fastest layout: the writer reads our buffer in place (no 150 MB copy);
  // ITK does not own it and only reads it.
  img->GetPixelContainer()->SetImportPointer(const_cast<T*>(pixels), g.voxelCount(), false);

  typename Image::SpacingType spacing;
  spacing[0] = g.col_spacing;
  spacing[1] = g.row_spacing;
  spacing[2] = sliceStep(g);
  img->SetSpacing(spacing);
  typename Image::PointType origin;
  for (int r = 0; r < 3; ++r) origin[r] = g.slice_pos[0][r];
  img->SetOrigin(origin);
  typename Image::DirectionType dir;
  for (int r = 0; r < 3; ++r) {
    dir(r, 0) = g.row_dir[r];
    dir(r, 1) = g.col_dir[r];
    dir(r, 2) = g.normal[r];
  }
  img->SetDirection(dir);

  // .nii.gz: ITK writes a plain .nii beside the target, which we compress.
  const std::filesystem::path plain =
      isGzipped(file) ? std::filesystem::path(file.string() + "." + std::to_string(getpid()) + ".tmp.nii") : file;
  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetImageIO(itk::NiftiImageIO::New());
  writer->SetFileName(plain.string());
  writer->SetInput(img);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    std::error_code ec;
    if (plain != file) std::filesystem::remove(plain, ec);
    throw Error(file, std::string("cannot write NIfTI: ") + e.GetDescription());
  }
  if (plain == file) return;
  try {
    gzipInto(plain, file);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(plain, ec);
    throw;
  }
  std::filesystem::remove(plain);
}

// HU -> integer pixel: clamp to [lo, hi] (NaN -> lo), then round half away
// from zero (as the DICOM write-back does). Done in float: h - trunc(h) is
// exact, so this equals rounding h +/- 0.5 in double, bit for bit.
template <class T>
T roundClamped(float x, float lo, float hi) {
  float h = x > lo ? x : lo;
  h = h < hi ? h : hi;
  const int t = static_cast<int>(h);  // toward zero; |h| <= 32768
  const float frac = h - static_cast<float>(t);
  return static_cast<T>(t + (frac >= 0.5f ? 1 : 0) - (frac <= -0.5f ? 1 : 0));
}

// HU -> integer pixels on two threads: this runs over 80 million voxels for a
// 512 x 512 x 300 stack. Blocks of a fixed length let GCC vectorise at -O2
// (its cheap cost model wants a known trip count).
template <class T>
void convertSlices(const Volume& g, T* out, float lo, float hi) {
  const std::size_t per_slice = g.nx * g.ny;
  constexpr std::size_t kBlock = 64;
  forEachSlice(g.nz, per_slice, [&](std::size_t k) {
    const float* src = g.hu.data() + k * per_slice;
    T* dst = out + k * per_slice;
    std::size_t n = 0;
    for (; n + kBlock <= per_slice; n += kBlock)
      for (std::size_t b = 0; b < kBlock; ++b) dst[n + b] = roundClamped<T>(src[n + b], lo, hi);
    for (; n < per_slice; ++n) dst[n] = roundClamped<T>(src[n], lo, hi);
  });
}

// A fresh buffer for the integer pixels, for which transparent huge pages are
// asked before the first touch: 160 MB in 4 KiB pages would cost ~40k page
// faults. Advice only: ignored where THP is off.
template <class T>
std::unique_ptr<T[]> pixelBuffer(std::size_t count) {
  auto px = std::make_unique_for_overwrite<T[]>(count);  // no zero fill: every voxel is written
  constexpr std::uintptr_t kHuge = 2u << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(px.get());
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + count * sizeof(T)) & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  return px;
}

void writeHu(const Volume& g, const std::filesystem::path& file, NiftiPixel pixel) {
  switch (pixel) {
    case NiftiPixel::Float32:
      writeImage<float>(g, g.hu.data(), file);
      return;
    case NiftiPixel::Int16: {
      const auto px = pixelBuffer<std::int16_t>(g.hu.size());
      convertSlices(g, px.get(), -32768.0f, 32767.0f);
      writeImage<std::int16_t>(g, px.get(), file);
      return;
    }
    case NiftiPixel::UInt8: {
      const auto px = pixelBuffer<std::uint8_t>(g.hu.size());
      convertSlices(g, px.get(), 0.0f, 255.0f);
      writeImage<std::uint8_t>(g, px.get(), file);
      return;
    }
  }
}

void requireValues(const Volume& v, const std::filesystem::path& file) {
  if (v.nx == 0 || v.ny == 0 || v.nz == 0 || v.slice_pos.size() != v.nz || v.hu.size() != v.voxelCount())
    throw Error(file, "cannot write NIfTI: empty or inconsistent volume");
}

}  // namespace

bool writeNifti(const Volume& v, const std::filesystem::path& file, NiftiPixel pixel) {
  requireValues(v, file);
  if (analyzeStack(v).regular()) {
    writeHu(v, file, pixel);
    return false;
  }
  Volume grid = regularGridFor(v);
  resampleInto(v, grid, kOutsideHu);
  writeHu(grid, file, pixel);
  return true;
}

void writeNiftiMask(const VoxelMask& mask, const Volume& geometry, const std::filesystem::path& file) {
  if (mask.nx != geometry.nx || mask.ny != geometry.ny || mask.nz != geometry.nz ||
      mask.data.size() != geometry.voxelCount() || geometry.slice_pos.size() != geometry.nz || geometry.nz == 0)
    throw Error(file, "cannot write NIfTI mask: mask and volume sizes differ");
  const auto binary = [](const VoxelMask& m) {
    std::vector<std::uint8_t> px(m.data.size());
    std::transform(m.data.begin(), m.data.end(), px.begin(), [](std::uint8_t x) -> std::uint8_t { return x ? 1 : 0; });
    return px;
  };
  if (analyzeStack(geometry).regular()) {
    writeImage<std::uint8_t>(geometry, binary(mask).data(), file);
    return;
  }
  // Same grid as writeNifti; nearest neighbour keeps the mask binary.
  const Volume grid = regularGridFor(geometry);
  const VoxelMask on_grid = maskToNative(mask, geometry, grid);
  writeImage<std::uint8_t>(grid, binary(on_grid).data(), file);
}

Volume readNifti(const std::filesystem::path& file) {
  using Image = itk::Image<float, 3>;
  auto reader = itk::ImageFileReader<Image>::New();
  reader->SetImageIO(itk::NiftiImageIO::New());  // ITK applies scl_slope / scl_inter
  reader->SetFileName(file.string());
  try {
    reader->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(file, std::string("cannot read NIfTI: ") + e.GetDescription());
  }
  const Image* img = reader->GetOutput();
  const auto size = img->GetLargestPossibleRegion().GetSize();
  const auto spacing = img->GetSpacing();
  const auto origin = img->GetOrigin();
  const auto dir = img->GetDirection();

  Volume v;
  v.nx = size[0];
  v.ny = size[1];
  v.nz = size[2];
  v.col_spacing = spacing[0];
  v.row_spacing = spacing[1];
  Vec3 axis_k{};
  for (int r = 0; r < 3; ++r) {
    v.row_dir[r] = dir(r, 0);
    v.col_dir[r] = dir(r, 1);
    axis_k[r] = dir(r, 2);
  }
  v.normal = normalized(cross(v.row_dir, v.col_dir));
  const Vec3 o{origin[0], origin[1], origin[2]};
  const Vec3 step = spacing[2] * axis_k;
  // Volume keeps slices in ascending order along row x col; a left-handed file
  // (slice axis against the normal) is stored with its slices reversed.
  const bool reversed = dot(step, v.normal) < 0;
  v.slice_pos.resize(v.nz);
  v.hu.resize(v.voxelCount());
  const std::size_t per_slice = v.nx * v.ny;
  const float* src = img->GetBufferPointer();
  for (std::size_t k = 0; k < v.nz; ++k) {
    const std::size_t fk = reversed ? v.nz - 1 - k : k;
    v.slice_pos[k] = o + static_cast<double>(fk) * step;
    std::copy(src + fk * per_slice, src + (fk + 1) * per_slice, v.hu.begin() + static_cast<std::ptrdiff_t>(k * per_slice));
  }
  return v;
}

}  // namespace ctd
