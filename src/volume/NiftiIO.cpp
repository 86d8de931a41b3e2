#include "volume/NiftiIO.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

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

// ITK takes LPS origin/direction and writes RAS qform/sform itself. Writes
// `pixels` as an nx x ny x nz image with g's geometry to the plain .nii `plain`.
template <class T>
void itkWrite(const Volume& g, const T* pixels, const std::size_t (&extent)[3], const std::filesystem::path& plain,
              const std::filesystem::path& file) {
  using Image = itk::Image<T, 3>;
  auto img = Image::New();
  typename Image::SizeType size;
  for (int a = 0; a < 3; ++a) size[a] = extent[a];
  typename Image::RegionType region;
  region.SetSize(size);
  img->SetRegions(region);
  // Same i-fastest layout: the writer reads our buffer in place (no 150 MB copy);
  // ITK does not own it and only reads it.
  img->GetPixelContainer()->SetImportPointer(const_cast<T*>(pixels), extent[0] * extent[1] * extent[2], false);

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

  auto writer = itk::ImageFileWriter<Image>::New();
  writer->SetImageIO(itk::NiftiImageIO::New());
  writer->SetFileName(plain.string());
  writer->SetInput(img);
  try {
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw Error(file, std::string("cannot write NIfTI: ") + e.GetDescription());
  }
}

// Runs write_plain(plain) for `file`; for .nii.gz, `plain` is a temporary .nii
// beside the target, which is then compressed into it.
template <class WritePlain>
void writeThroughPlain(const std::filesystem::path& file, WritePlain write_plain) {
  const std::filesystem::path plain =
      isGzipped(file) ? std::filesystem::path(file.string() + "." + std::to_string(getpid()) + ".tmp.nii") : file;
  try {
    write_plain(plain);
    if (plain != file) gzipInto(plain, file);
  } catch (...) {
    std::error_code ec;
    if (plain != file) std::filesystem::remove(plain, ec);
    throw;
  }
  if (plain != file) std::filesystem::remove(plain);
}

template <class T>
void writeImage(const Volume& g, const T* pixels, const std::filesystem::path& file) {
  writeThroughPlain(file, [&](const std::filesystem::path& plain) { itkWrite(g, pixels, {g.nx, g.ny, g.nz}, plain, file); });
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

// HU of slices [k0, k1) -> integer pixels in `out`, on two threads. Blocks of
// a fixed length let GCC vectorise at -O2 (its cheap cost model wants a known
// trip count).
template <class T>
void convertSlices(const Volume& g, std::size_t k0, std::size_t k1, T* out, float lo, float hi) {
  const std::size_t per_slice = g.nx * g.ny;
  constexpr std::size_t kBlock = 64;
  forEachSlice(k1 - k0, per_slice, [&](std::size_t dk) {
    const float* src = g.hu.data() + (k0 + dk) * per_slice;
    T* dst = out + dk * per_slice;
    std::size_t n = 0;
    for (; n + kBlock <= per_slice; n += kBlock)
      for (std::size_t b = 0; b < kBlock; ++b) dst[n + b] = roundClamped<T>(src[n + b], lo, hi);
    for (; n < per_slice; ++n) dst[n] = roundClamped<T>(src[n], lo, hi);
  });
}

bool writeAll(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return true;
}

// Integer pixels of a whole stack, streamed: converted a few MB at a time and
// appended to the file, instead of a 160 MB buffer handed to ITK (whose fresh
// pages cost more than the conversion). The header is still ITK's own: ITK
// writes a 2 x 2 x 2 image with the same geometry, whose header we keep with
// the real dimensions patched in (nothing else in a NIfTI-1 header depends on
// them). Returns false, having written nothing, when that header is not the
// plain NIfTI-1 layout expected; the caller then lets ITK write everything.
template <class T>
bool streamConverted(const Volume& g, const std::filesystem::path& plain, const std::filesystem::path& file, float lo,
                     float hi) {
  if constexpr (std::endian::native != std::endian::little) return false;
  if (g.nx > 32767 || g.ny > 32767 || g.nz > 32767) return false;
  const T proxy[8] = {};
  itkWrite(g, proxy, {2, 2, 2}, plain, file);

  // NIfTI-1: sizeof_hdr (int32) at 0, dim[8] (int16) at 40, vox_offset (float) at 108.
  std::vector<char> header(4096);
  std::size_t header_size = 0;
  {
    std::FILE* in = std::fopen(plain.c_str(), "rb");
    if (!in) throw Error(file, "cannot read back the NIfTI header");
    const std::size_t got = std::fread(header.data(), 1, header.size(), in);
    std::fclose(in);
    std::int32_t sizeof_hdr = 0;
    std::int16_t dim[4] = {};
    float vox_offset = 0;
    if (got < 348) return false;
    std::memcpy(&sizeof_hdr, header.data(), 4);
    std::memcpy(dim, header.data() + 40, sizeof dim);
    std::memcpy(&vox_offset, header.data() + 108, 4);
    header_size = static_cast<std::size_t>(vox_offset);
    if (sizeof_hdr != 348 || dim[0] != 3 || dim[1] != 2 || dim[2] != 2 || dim[3] != 2 ||
        vox_offset != static_cast<float>(header_size) || header_size < 348 || header_size + 8 * sizeof(T) != got)
      return false;
  }
  const std::int16_t dims[3] = {static_cast<std::int16_t>(g.nx), static_cast<std::int16_t>(g.ny),
                                static_cast<std::int16_t>(g.nz)};
  std::memcpy(header.data() + 42, dims, sizeof dims);

  const int fd = ::open(plain.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw Error(file, "cannot write NIfTI");
  bool ok = writeAll(fd, header.data(), header_size);
  const std::size_t per_slice = g.nx * g.ny;
  constexpr std::size_t kChunkBytes = 8u << 20;
  const std::size_t chunk = std::max<std::size_t>(1, kChunkBytes / (per_slice * sizeof(T)));
  const auto px = std::make_unique_for_overwrite<T[]>(chunk * per_slice);  // every voxel is written
  for (std::size_t k0 = 0; ok && k0 < g.nz; k0 += chunk) {
    const std::size_t k1 = std::min(g.nz, k0 + chunk);
    convertSlices(g, k0, k1, px.get(), lo, hi);
    ok = writeAll(fd, px.get(), (k1 - k0) * per_slice * sizeof(T));
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw Error(file, "cannot write NIfTI (disk full?)");
  return true;
}

template <class T>
void writeConverted(const Volume& g, const std::filesystem::path& file, float lo, float hi) {
  writeThroughPlain(file, [&](const std::filesystem::path& plain) {
    if (streamConverted<T>(g, plain, file, lo, hi)) return;
    const auto px = std::make_unique_for_overwrite<T[]>(g.hu.size());  // no zero fill: every voxel is written
    convertSlices(g, 0, g.nz, px.get(), lo, hi);
    itkWrite(g, px.get(), {g.nx, g.ny, g.nz}, plain, file);
  });
}

void writeHu(const Volume& g, const std::filesystem::path& file, NiftiPixel pixel) {
  switch (pixel) {
    case NiftiPixel::Float32:
      writeImage<float>(g, g.hu.data(), file);
      return;
    case NiftiPixel::Int16:
      writeConverted<std::int16_t>(g, file, -32768.0f, 32767.0f);
      return;
    case NiftiPixel::UInt8:
      writeConverted<std::uint8_t>(g, file, 0.0f, 255.0f);
      return;
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
