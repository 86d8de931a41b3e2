#pragma once
// Independent reading of one CT slice with GDCM (raw attributes + stored pixels),
// used as the oracle for where each voxel is and what it holds.
#include <gdcmAttribute.h>
#include <gdcmImageReader.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/Vec3.h"

namespace ctd::testing {

struct OracleSlice {
  Vec3 ipp{};
  Vec3 x{}, y{};           // IOP row and column direction
  double d_row = 0, d_col = 0;  // PixelSpacing[0] (between rows), [1] (between columns)
  std::size_t rows = 0, cols = 0;
  std::vector<double> hu;  // row-major

  // The per-slice DICOM formula.
  Vec3 position(double row, double col) const { return ipp + (col * d_col) * x + (row * d_row) * y; }
};

inline OracleSlice readOracleSlice(const std::filesystem::path& file) {
  gdcm::ImageReader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.Read()) throw std::runtime_error("oracle cannot read " + file.string());
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  OracleSlice s;
  gdcm::Attribute<0x0020, 0x0032> ipp;
  ipp.Set(ds);
  gdcm::Attribute<0x0020, 0x0037> iop;
  iop.Set(ds);
  gdcm::Attribute<0x0028, 0x0030> ps;
  ps.Set(ds);
  for (int r = 0; r < 3; ++r) {
    s.ipp[r] = ipp.GetValue(r);
    s.x[r] = iop.GetValue(r);
    s.y[r] = iop.GetValue(r + 3);
  }
  s.d_row = ps.GetValue(0);
  s.d_col = ps.GetValue(1);
  double slope = 1, intercept = 0;
  if (ds.FindDataElement(gdcm::Tag(0x0028, 0x1053))) {
    gdcm::Attribute<0x0028, 0x1053> a;
    a.Set(ds);
    slope = a.GetValue();
  }
  if (ds.FindDataElement(gdcm::Tag(0x0028, 0x1052))) {
    gdcm::Attribute<0x0028, 0x1052> a;
    a.Set(ds);
    intercept = a.GetValue();
  }
  const gdcm::Image& img = reader.GetImage();
  s.cols = img.GetDimension(0);
  s.rows = img.GetDimension(1);
  std::vector<char> raw(img.GetBufferLength());
  if (!img.GetBuffer(raw.data())) throw std::runtime_error("oracle cannot decode " + file.string());
  const std::size_t n = s.rows * s.cols;
  s.hu.resize(n);
  const auto type = img.GetPixelFormat().GetScalarType();
  for (std::size_t p = 0; p < n; ++p) {
    double stored = 0;
    if (type == gdcm::PixelFormat::INT16 || type == gdcm::PixelFormat::INT12) {
      std::int16_t v;
      std::memcpy(&v, raw.data() + 2 * p, 2);
      stored = v;
    } else if (type == gdcm::PixelFormat::UINT16 || type == gdcm::PixelFormat::UINT12) {
      std::uint16_t v;
      std::memcpy(&v, raw.data() + 2 * p, 2);
      stored = v;
    } else {
      throw std::runtime_error("oracle handles 16-bit pixels only: " + file.string());
    }
    s.hu[p] = stored * slope + intercept;
  }
  return s;
}

}  // namespace ctd::testing
