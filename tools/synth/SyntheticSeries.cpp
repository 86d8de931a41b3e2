// Writes a Volume as a real DICOM CT series with GDCM (test tool).
//
// The data set is built element by element so that the geometry written is
// exactly the Volume's (no GDCM ImageHelper guessing), then gdcm::PixmapWriter
// adds the Image Pixel module and the file meta, and
// gdcm::ImageChangeTransferSyntax does any compression.
//
// Stored values are round((HU - intercept) / slope) clamped to the range that
// BitsStored and PixelRepresentation allow (the same rule as the write-back).
#include "synth/SyntheticSeries.h"

#include <gdcmDataElement.h>
#include <gdcmDataSet.h>
#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmItem.h>
#include <gdcmPixmap.h>
#include <gdcmPixmapWriter.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTransferSyntax.h>
#include <gdcmUIDGenerator.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "core/Error.h"

namespace ctd::synth {
namespace {

constexpr const char* kCtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
constexpr const char* kEnhancedCtImageStorage = "1.2.840.10008.5.1.4.1.1.2.1";
constexpr std::size_t kMinJ2kPixels = 1024;

// DS allows 16 characters: use the most precision that fits.
std::string formatDS(double v) {
  if (v == 0) return "0";
  char buf[64];
  for (int prec = 16; prec > 0; --prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::string(buf).size() <= 16) return buf;
  }
  return "0";
}

std::string joinDS(const double* v, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += '\\';
    s += formatDS(v[i]);
  }
  return s;
}

// Pads to even length the way PS3.5 asks (UI with NUL, others with space).
void put(gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element, gdcm::VR vr, std::string value) {
  if (value.size() % 2) value += (vr == gdcm::VR::UI) ? '\0' : ' ';
  gdcm::DataElement de(gdcm::Tag(group, element));
  de.SetVR(vr);
  de.SetByteValue(value.data(), static_cast<std::uint32_t>(value.size()));
  ds.Replace(de);
}

void putSequence(gdcm::DataSet& ds, std::uint16_t group, std::uint16_t element,
                 const std::vector<gdcm::DataSet>& items) {
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
  sq->SetLengthToUndefined();
  for (const auto& nested : items) {
    gdcm::Item item;
    item.SetVLToUndefined();
    item.SetNestedDataSet(nested);
    sq->AddItem(item);
  }
  gdcm::DataElement de(gdcm::Tag(group, element));
  de.SetVR(gdcm::VR::SQ);
  de.SetValue(*sq);
  de.SetVLToUndefined();
  ds.Replace(de);
}

gdcm::DataSet oneItem(std::uint16_t group, std::uint16_t element, gdcm::VR vr, const std::string& value) {
  gdcm::DataSet ds;
  put(ds, group, element, vr, value);
  return ds;
}

std::string joinCS(const std::vector<std::string>& values) {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? "\\" : "") + values[i];
  return s;
}

struct SliceValues {
  double slope = 1, intercept = 0;
};

SliceValues rescaleOf(const SeriesSpec& spec, std::size_t k) {
  SliceValues r;
  r.slope = k < spec.slopes.size() ? spec.slopes[k] : 1.0;
  r.intercept = k < spec.intercepts.size() ? spec.intercepts[k] : (spec.pixel_signed ? 0.0 : -1024.0);
  if (r.slope == 0) throw Error("synth: RescaleSlope 0 for slice " + std::to_string(k));
  return r;
}

// Stored values of slice k as 16-bit words (two's complement when signed).
void storeSlice(const SeriesSpec& spec, std::size_t k, std::vector<std::uint16_t>& out, std::size_t offset) {
  const Volume& v = spec.volume;
  const SliceValues r = rescaleOf(spec, k);
  const int bs = spec.bits_stored;
  const long lo = spec.pixel_signed ? -(1L << (bs - 1)) : 0;
  const long hi = spec.pixel_signed ? (1L << (bs - 1)) - 1 : (1L << bs) - 1;
  const std::size_t n = v.nx * v.ny;
  for (std::size_t p = 0; p < n; ++p) {
    const double hu = v.hu[k * n + p];
    long s = std::lround((hu - r.intercept) / r.slope);
    s = std::clamp(s, lo, hi);
    // Two's complement for negative values; sign bits above HighBit set, as scanners write them.
    out[offset + p] = static_cast<std::uint16_t>(s & 0xFFFF);
  }
}

std::vector<std::size_t> permutation(std::size_t n, unsigned seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(p.begin(), p.end(), rng);
  // A shuffle of more than one element that happens to be the identity would
  // make the quirk vanish; reverse instead.
  if (n > 1 && std::is_sorted(p.begin(), p.end())) std::reverse(p.begin(), p.end());
  return p;
}

std::string orientationDS(const Volume& v) {
  const double iop[6] = {v.row_dir[0], v.row_dir[1], v.row_dir[2], v.col_dir[0], v.col_dir[1], v.col_dir[2]};
  return joinDS(iop, 6);
}

std::string spacingDS(const Volume& v) {
  const double ps[2] = {v.row_spacing, v.col_spacing};
  return joinDS(ps, 2);
}

std::string positionDS(const Vec3& p) { return joinDS(p.data(), 3); }

// Nominal slice thickness: the median gap along the normal (1 mm for a single slice).
double nominalThickness(const Volume& v) {
  if (v.nz < 2) return 1.0;
  std::vector<double> gaps;
  for (std::size_t k = 1; k < v.nz; ++k) gaps.push_back(std::abs(dot(v.slice_pos[k] - v.slice_pos[k - 1], v.normal)));
  std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
  return gaps[gaps.size() / 2];
}

// Attributes common to every file of the series.
void putCommon(gdcm::DataSet& ds, const SeriesSpec& spec, const std::string& study, const std::string& series,
               const std::string& frame_of_reference) {
  put(ds, 0x0008, 0x0008, gdcm::VR::CS, joinCS(spec.image_type));
  put(ds, 0x0008, 0x0020, gdcm::VR::DA, "20240101");
  put(ds, 0x0008, 0x0030, gdcm::VR::TM, "120000");
  put(ds, 0x0008, 0x0023, gdcm::VR::DA, "20240101");
  put(ds, 0x0008, 0x0033, gdcm::VR::TM, "120000");
  put(ds, 0x0008, 0x0050, gdcm::VR::SH, "");
  put(ds, 0x0008, 0x0060, gdcm::VR::CS, "CT");
  put(ds, 0x0008, 0x0090, gdcm::VR::PN, "");
  put(ds, 0x0008, 0x0070, gdcm::VR::LO, "ctdeface synth");
  put(ds, 0x0008, 0x103E, gdcm::VR::LO, spec.series_description);
  put(ds, 0x0010, 0x0010, gdcm::VR::PN, "Synthetic^Phantom");
  put(ds, 0x0010, 0x0020, gdcm::VR::LO, spec.patient_id);
  put(ds, 0x0010, 0x0030, gdcm::VR::DA, "");
  put(ds, 0x0010, 0x0040, gdcm::VR::CS, "O");
  put(ds, 0x0018, 0x5100, gdcm::VR::CS, "HFS");
  put(ds, 0x0018, 0x0060, gdcm::VR::DS, "120");
  put(ds, 0x0020, 0x000D, gdcm::VR::UI, study);
  put(ds, 0x0020, 0x000E, gdcm::VR::UI, series);
  put(ds, 0x0020, 0x0010, gdcm::VR::SH, "1");
  put(ds, 0x0020, 0x0011, gdcm::VR::IS, std::to_string(spec.series_number));
  put(ds, 0x0020, 0x0012, gdcm::VR::IS, "1");
  put(ds, 0x0020, 0x0052, gdcm::VR::UI, frame_of_reference);
  put(ds, 0x0020, 0x1040, gdcm::VR::LO, "");
  // PixmapWriter writes it too, but GDCM looks it up in the data set first.
  put(ds, 0x0028, 0x0004, gdcm::VR::CS, "MONOCHROME2");
}

// GDCM filters and writers keep a gdcm::SmartPointer to the Pixmap they are
// given, so every Pixmap must live on the heap behind a SmartPointer.
gdcm::SmartPointer<gdcm::Pixmap> makePixmap(const SeriesSpec& spec, const std::vector<std::uint16_t>& words,
                                            unsigned frames) {
  const Volume& v = spec.volume;
  gdcm::SmartPointer<gdcm::Pixmap> pm = new gdcm::Pixmap;
  pm->SetNumberOfDimensions(frames > 1 ? 3 : 2);
  pm->SetDimension(0, static_cast<unsigned>(v.nx));
  pm->SetDimension(1, static_cast<unsigned>(v.ny));
  if (frames > 1) pm->SetDimension(2, frames);
  gdcm::PixelFormat pf(gdcm::PixelFormat::UINT16);
  pf.SetSamplesPerPixel(1);
  pf.SetBitsAllocated(16);
  pf.SetBitsStored(static_cast<unsigned short>(spec.bits_stored));
  pf.SetHighBit(static_cast<unsigned short>(spec.bits_stored - 1));
  pf.SetPixelRepresentation(spec.pixel_signed ? 1 : 0);
  pm->SetPixelFormat(pf);
  pm->SetPhotometricInterpretation(gdcm::PhotometricInterpretation::MONOCHROME2);
  pm->SetTransferSyntax(gdcm::TransferSyntax::ExplicitVRLittleEndian);
  gdcm::DataElement pixel(gdcm::Tag(0x7FE0, 0x0010));
  pixel.SetVR(gdcm::VR::OW);
  pixel.SetByteValue(reinterpret_cast<const char*>(words.data()),
                     static_cast<std::uint32_t>(words.size() * sizeof(std::uint16_t)));
  pm->SetDataElement(pixel);
  return pm;
}

void writeFile(const SeriesSpec& spec, const gdcm::DataSet& ds, const gdcm::SmartPointer<gdcm::Pixmap>& raw,
               const std::filesystem::path& file) {
  const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType(spec.transfer_syntax.c_str());
  if (ts == gdcm::TransferSyntax::TS_END)
    throw Error(file, "synth: unknown transfer syntax " + spec.transfer_syntax);
  // GDCM 3.0.21's JPEG 2000 encoder writes into a buffer the size of the raw
  // frame and overflows it when the codestream headers outgrow tiny frames.
  const bool j2k = ts == gdcm::TransferSyntax::JPEG2000Lossless || ts == gdcm::TransferSyntax::JPEG2000;
  if (j2k && spec.volume.nx * spec.volume.ny < kMinJ2kPixels)
    throw Error(file, "synth: JPEG 2000 needs frames of at least " + std::to_string(kMinJ2kPixels) +
                          " pixels (GDCM encoder overflows on smaller ones)");
  gdcm::SmartPointer<gdcm::Pixmap> out = raw;
  gdcm::ImageChangeTransferSyntax change;
  if (ts != gdcm::TransferSyntax::ExplicitVRLittleEndian) {
    change.SetTransferSyntax(ts);
    change.SetInput(*raw);
    if (!change.Change()) throw Error(file, "synth: GDCM cannot encode transfer syntax " + spec.transfer_syntax);
    out = const_cast<gdcm::Pixmap*>(&change.GetOutputAsPixmap());
  }
  gdcm::PixmapWriter writer;
  writer.GetFile().SetDataSet(ds);
  writer.SetPixmap(*out);
  writer.SetFileName(file.string().c_str());
  if (!writer.Write()) throw Error(file, "synth: GDCM could not write the file");
}

std::string fileName(const SeriesSpec& spec, std::size_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "IM%04zu", number + 1);
  return std::string(buf) + (spec.dcm_extension ? ".dcm" : "");
}

void checkSpec(const SeriesSpec& spec) {
  const Volume& v = spec.volume;
  if (v.nx == 0 || v.ny == 0 || v.nz == 0) throw Error("synth: empty volume");
  if (v.hu.size() != v.voxelCount()) throw Error("synth: volume hu has the wrong size");
  if (v.slice_pos.size() != v.nz) throw Error("synth: volume needs one slice_pos per slice");
  if (spec.bits_stored != 16 && spec.bits_stored != 12) throw Error("synth: bits_stored must be 12 or 16");
  if (v.nx > 65535 || v.ny > 65535) throw Error("synth: matrix too large for DICOM");
}

}  // namespace

std::vector<std::filesystem::path> writeSeries(const SeriesSpec& spec, const std::filesystem::path& dir) {
  checkSpec(spec);
  std::filesystem::create_directories(dir);
  const Volume& v = spec.volume;
  gdcm::UIDGenerator uids;
  const std::string study = spec.study_uid.empty() ? uids.Generate() : spec.study_uid;
  const std::string series = spec.series_uid.empty() ? uids.Generate() : spec.series_uid;
  const std::string frame_of_reference = uids.Generate();
  const std::size_t n = v.nx * v.ny;
  const double thickness = nominalThickness(v);

  if (spec.enhanced_multiframe) {
    // Frame order is not slice order when shuffling, as scanners do.
    std::vector<std::size_t> order(v.nz);
    std::iota(order.begin(), order.end(), 0);
    if (spec.shuffle_file_names) order = permutation(v.nz, spec.seed);
    std::vector<std::uint16_t> words(n * v.nz);
    std::vector<gdcm::DataSet> per_frame;
    for (std::size_t f = 0; f < v.nz; ++f) {
      const std::size_t k = order[f];
      storeSlice(spec, k, words, f * n);
      const SliceValues r = rescaleOf(spec, k);
      gdcm::DataSet frame;
      putSequence(frame, 0x0020, 0x9113, {oneItem(0x0020, 0x0032, gdcm::VR::DS, positionDS(v.slice_pos[k]))});
      gdcm::DataSet transform;
      put(transform, 0x0028, 0x1052, gdcm::VR::DS, formatDS(r.intercept));
      put(transform, 0x0028, 0x1053, gdcm::VR::DS, formatDS(r.slope));
      put(transform, 0x0028, 0x1054, gdcm::VR::LO, "HU");
      putSequence(frame, 0x0028, 0x9145, {transform});
      per_frame.push_back(frame);
    }
    gdcm::DataSet shared;
    gdcm::DataSet measures;
    put(measures, 0x0018, 0x0050, gdcm::VR::DS, formatDS(thickness));
    put(measures, 0x0028, 0x0030, gdcm::VR::DS, spacingDS(v));
    putSequence(shared, 0x0028, 0x9110, {measures});
    putSequence(shared, 0x0020, 0x9116, {oneItem(0x0020, 0x0037, gdcm::VR::DS, orientationDS(v))});

    gdcm::DataSet ds;
    put(ds, 0x0008, 0x0016, gdcm::VR::UI, kEnhancedCtImageStorage);
    put(ds, 0x0008, 0x0018, gdcm::VR::UI, uids.Generate());
    putCommon(ds, spec, study, series, frame_of_reference);
    put(ds, 0x0020, 0x0013, gdcm::VR::IS, "1");
    put(ds, 0x0008, 0x9206, gdcm::VR::CS, "MONOCHROME");
    putSequence(ds, 0x5200, 0x9229, {shared});
    putSequence(ds, 0x5200, 0x9230, per_frame);
    const std::filesystem::path file = dir / fileName(spec, 0);
    writeFile(spec, ds, makePixmap(spec, words, static_cast<unsigned>(v.nz)), file);
    return {file};
  }

  std::vector<std::size_t> names(v.nz), numbers(v.nz);
  std::iota(names.begin(), names.end(), 0);
  std::iota(numbers.begin(), numbers.end(), 0);
  if (spec.shuffle_file_names) names = permutation(v.nz, spec.seed);
  if (spec.lying_instance_numbers) numbers = permutation(v.nz, spec.seed * 7919u + 13u);

  std::vector<std::filesystem::path> files;
  std::vector<std::uint16_t> words(n);
  for (std::size_t k = 0; k < v.nz; ++k) {
    storeSlice(spec, k, words, 0);
    const SliceValues r = rescaleOf(spec, k);
    gdcm::DataSet ds;
    put(ds, 0x0008, 0x0016, gdcm::VR::UI, kCtImageStorage);
    put(ds, 0x0008, 0x0018, gdcm::VR::UI, uids.Generate());
    putCommon(ds, spec, study, series, frame_of_reference);
    put(ds, 0x0018, 0x0050, gdcm::VR::DS, formatDS(thickness));
    put(ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string(numbers[k] + 1));
    put(ds, 0x0020, 0x0032, gdcm::VR::DS, positionDS(v.slice_pos[k]));
    put(ds, 0x0020, 0x0037, gdcm::VR::DS, orientationDS(v));
    put(ds, 0x0028, 0x0030, gdcm::VR::DS, spacingDS(v));
    put(ds, 0x0028, 0x1052, gdcm::VR::DS, formatDS(r.intercept));
    put(ds, 0x0028, 0x1053, gdcm::VR::DS, formatDS(r.slope));
    put(ds, 0x0028, 0x1054, gdcm::VR::LO, "HU");
    const std::filesystem::path file = dir / fileName(spec, names[k]);
    writeFile(spec, ds, makePixmap(spec, words, 1), file);
    files.push_back(file);
  }
  return files;
}

}  // namespace ctd::synth
