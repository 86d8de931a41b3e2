#include "dicom/DataSetValues.h"

#include <gdcmAttribute.h>
#include <gdcmByteValue.h>
#include <gdcmSequenceOfItems.h>

#include <cmath>
#include <cstdlib>

namespace ctd::dcm {
namespace {

std::string trim(const std::string& s) {
  const char* pad = " \t\r\n";
  std::string t = s;
  // NUL padding (UI) and embedded terminators end the value.
  if (const auto nul = t.find('\0'); nul != std::string::npos) t.resize(nul);
  const auto b = t.find_first_not_of(pad);
  if (b == std::string::npos) return "";
  const auto e = t.find_last_not_of(pad);
  return t.substr(b, e - b + 1);
}

}  // namespace

std::string getString(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return "";
  const gdcm::DataElement& de = ds.GetDataElement(tag);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv || bv->GetLength() == 0) return "";
  return trim(std::string(bv->GetPointer(), bv->GetLength()));
}

std::vector<std::string> getStrings(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  std::vector<std::string> out;
  if (!ds.FindDataElement(tag)) return out;
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (!bv || bv->GetLength() == 0) return out;
  const std::string all(bv->GetPointer(), bv->GetLength());
  std::size_t start = 0;
  while (true) {
    const auto sep = all.find('\\', start);
    out.push_back(trim(all.substr(start, sep == std::string::npos ? std::string::npos : sep - start)));
    if (sep == std::string::npos) break;
    start = sep + 1;
  }
  if (out.size() == 1 && out[0].empty()) out.clear();
  return out;
}

std::vector<double> getNumbers(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  std::vector<double> out;
  for (const std::string& s : getStrings(ds, tag)) {
    if (s.empty()) return {};
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    // DS and IS hold finite decimals only: "NaN" or "inf" is a corrupt value.
    if (end == s.c_str() || *end != '\0' || !std::isfinite(v)) return {};
    out.push_back(v);
  }
  return out;
}

std::optional<double> getNumber(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  const auto v = getNumbers(ds, tag);
  if (v.empty()) return std::nullopt;
  return v[0];
}

std::optional<std::uint16_t> getUS(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return std::nullopt;
  const gdcm::DataElement& de = ds.GetDataElement(tag);
  const gdcm::ByteValue* bv = de.GetByteValue();
  if (!bv || bv->GetLength() < 2) return std::nullopt;
  gdcm::Element<gdcm::VR::US, gdcm::VM::VM1> el;
  el.SetFromDataElement(de);
  return el.GetValue();
}

std::vector<gdcm::DataSet> sequenceItems(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  std::vector<gdcm::DataSet> out;
  if (!ds.FindDataElement(tag)) return out;
  // GetValueAsSQ also parses sequences GDCM kept as raw bytes (implicit VR).
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(tag).GetValueAsSQ();
  if (!sq) return out;
  for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i)
    out.push_back(sq->GetItem(i).GetNestedDataSet());
  return out;
}

}  // namespace ctd::dcm
