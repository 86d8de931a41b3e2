#include "write/DatasetEdits.h"

#include <gdcmDataElement.h>
#include <gdcmExplicitDataElement.h>
#include <gdcmItem.h>
#include <gdcmSequenceOfItems.h>

#include <functional>
#include <vector>

namespace ctd {
namespace {

// Pads to even length as PS3.5 asks (UI with NUL, other strings with space).
gdcm::DataElement stringElement(const gdcm::Tag& tag, gdcm::VR vr, std::string value) {
  if (value.size() % 2) value += (vr == gdcm::VR::UI) ? '\0' : ' ';
  gdcm::DataElement de(tag);
  de.SetVR(vr);
  de.SetByteValue(value.data(), static_cast<std::uint32_t>(value.size()));
  return de;
}

std::string stringValue(const gdcm::DataSet& ds, const gdcm::Tag& tag) {
  if (!ds.FindDataElement(tag)) return {};
  const gdcm::ByteValue* bv = ds.GetDataElement(tag).GetByteValue();
  if (!bv) return {};
  std::string s(bv->GetPointer(), bv->GetLength());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

std::vector<std::string> splitValues(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t bs = s.find('\\', start);
    out.push_back(s.substr(start, bs == std::string::npos ? std::string::npos : bs - start));
    if (bs == std::string::npos) break;
    start = bs + 1;
  }
  return out;
}

std::string joinValues(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t n = 0; n < v.size(); ++n) s += (n ? "\\" : "") + v[n];
  return s;
}

// Value 1 DERIVED, value 2 SECONDARY, values 3+ kept (PS3.3 C.7.6.1.1.2).
// Enhanced (multi-frame functional group) objects only allow PRIMARY as value 2
// (PS3.3 C.8.16.1), so there value 2 is kept.
void deriveImageType(gdcm::DataSet& ds, const gdcm::Tag& tag, bool add_if_missing, bool enhanced) {
  if (!ds.FindDataElement(tag) && !add_if_missing) return;
  std::vector<std::string> v = splitValues(stringValue(ds, tag));
  if (v.size() < 2) v.resize(2);
  v[0] = "DERIVED";
  if (!enhanced || v[1].empty()) v[1] = enhanced ? "PRIMARY" : "SECONDARY";
  ds.Replace(stringElement(tag, gdcm::VR::CS, joinValues(v)));
}

gdcm::DataSet codeItem(const char* value, const char* scheme, const char* meaning) {
  gdcm::DataSet item;
  item.Replace(stringElement(gdcm::Tag(0x0008, 0x0100), gdcm::VR::SH, value));
  item.Replace(stringElement(gdcm::Tag(0x0008, 0x0102), gdcm::VR::SH, scheme));
  item.Replace(stringElement(gdcm::Tag(0x0008, 0x0104), gdcm::VR::LO, meaning));
  return item;
}

// Sequences we touch are written with undefined lengths: edits change item sizes
// and undefined lengths are valid in every transfer syntax.
void putSequence(gdcm::DataSet& ds, const gdcm::Tag& tag, gdcm::SequenceOfItems& sq) {
  sq.SetLengthToUndefined();
  gdcm::DataElement de(tag);
  de.SetVR(gdcm::VR::SQ);
  de.SetValue(sq);
  de.SetVLToUndefined();
  ds.Replace(de);
}

void appendItem(gdcm::DataSet& ds, const gdcm::Tag& tag, const gdcm::DataSet& nested) {
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq;
  if (ds.FindDataElement(tag)) sq = ds.GetDataElement(tag).GetValueAsSQ();
  if (!sq) sq = new gdcm::SequenceOfItems;
  gdcm::Item item;
  item.SetVLToUndefined();
  item.SetNestedDataSet(nested);
  sq->AddItem(item);
  putSequence(ds, tag, *sq);
}

// Calls `edit` on every item of the sequence `tag` in `ds` (if present).
void forEachItem(gdcm::DataSet& ds, const gdcm::Tag& tag, const std::function<void(gdcm::DataSet&)>& edit) {
  if (!ds.FindDataElement(tag)) return;
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = ds.GetDataElement(tag).GetValueAsSQ();
  if (!sq) return;
  gdcm::SmartPointer<gdcm::SequenceOfItems> out = new gdcm::SequenceOfItems;
  for (gdcm::SequenceOfItems::SizeType n = 1; n <= sq->GetNumberOfItems(); ++n) {
    gdcm::Item item = sq->GetItem(n);
    gdcm::DataSet nested = item.GetNestedDataSet();
    edit(nested);
    gdcm::Item copy;
    copy.SetVLToUndefined();
    copy.SetNestedDataSet(nested);
    out->AddItem(copy);
  }
  putSequence(ds, tag, *out);
}

}  // namespace

bool hasPixelSummaries(const gdcm::DataSet& ds) {
  for (const gdcm::Tag& t : {gdcm::Tag(0x0088, 0x0200), gdcm::Tag(0x0028, 0x0106), gdcm::Tag(0x0028, 0x0107),
                            gdcm::Tag(0x0028, 0x0108), gdcm::Tag(0x0028, 0x0109)})
    if (ds.FindDataElement(t)) return true;
  return false;
}

void dropPixelSummaries(gdcm::DataSet& ds) {
  for (const gdcm::Tag& t : {gdcm::Tag(0x0088, 0x0200), gdcm::Tag(0x0028, 0x0106), gdcm::Tag(0x0028, 0x0107),
                            gdcm::Tag(0x0028, 0x0108), gdcm::Tag(0x0028, 0x0109)})
    ds.Remove(t);
}

void dropExtendedOffsetTable(gdcm::DataSet& ds) {
  ds.Remove(gdcm::Tag(0x7FE0, 0x0001));
  ds.Remove(gdcm::Tag(0x7FE0, 0x0002));
}

void setSopInstanceUid(gdcm::File& file, const std::string& uid) {
  file.GetDataSet().Replace(stringElement(gdcm::Tag(0x0008, 0x0018), gdcm::VR::UI, uid));
  file.GetHeader().Replace(stringElement(gdcm::Tag(0x0002, 0x0003), gdcm::VR::UI, uid));
  updateMetaGroupLength(file);
}

void setSeriesInstanceUid(gdcm::DataSet& ds, const std::string& uid) {
  ds.Replace(stringElement(gdcm::Tag(0x0020, 0x000E), gdcm::VR::UI, uid));
}

void markDefaced(gdcm::DataSet& ds, const std::string& derivation_description) {
  const bool enhanced = ds.FindDataElement(gdcm::Tag(0x5200, 0x9229)) || ds.FindDataElement(gdcm::Tag(0x5200, 0x9230));
  deriveImageType(ds, gdcm::Tag(0x0008, 0x0008), true, enhanced);
  // Enhanced CT repeats the image type per frame (CT Image Frame Type Sequence);
  // it must agree with ImageType value 1.
  const auto frame_type = [](gdcm::DataSet& group) {
    forEachItem(group, gdcm::Tag(0x0018, 0x9329),
                [](gdcm::DataSet& item) { deriveImageType(item, gdcm::Tag(0x0008, 0x9007), false, true); });
  };
  forEachItem(ds, gdcm::Tag(0x5200, 0x9229), frame_type);
  forEachItem(ds, gdcm::Tag(0x5200, 0x9230), frame_type);

  ds.Replace(stringElement(gdcm::Tag(0x0008, 0x2111), gdcm::VR::ST, derivation_description));
  // CID 7203 "Image Derivation": the volume was edited voxel by voxel under a mask.
  gdcm::SmartPointer<gdcm::SequenceOfItems> derivation = new gdcm::SequenceOfItems;
  gdcm::Item item;
  item.SetVLToUndefined();
  item.SetNestedDataSet(codeItem("113077", "DCM", "Volume editing"));
  derivation->AddItem(item);
  putSequence(ds, gdcm::Tag(0x0008, 0x9215), *derivation);

  // Keep any earlier de-identification record and add ours (as CTP does).
  std::vector<std::string> methods = splitValues(stringValue(ds, gdcm::Tag(0x0012, 0x0063)));
  std::erase_if(methods, [](const std::string& s) { return s.empty(); });
  methods.push_back("ctdeface: face voxels replaced");
  ds.Replace(stringElement(gdcm::Tag(0x0012, 0x0063), gdcm::VR::LO, joinValues(methods)));
  appendItem(ds, gdcm::Tag(0x0012, 0x0064),
             codeItem("113102", "DCM", "Clean Recognizable Visual Features Option"));
  // PS3.15 E.3.2; PatientIdentityRemoved is deliberately left alone (defacing alone does not justify YES).
  ds.Replace(stringElement(gdcm::Tag(0x0028, 0x0302), gdcm::VR::CS, "NO"));
}

void setTransferSyntax(gdcm::File& file, const gdcm::TransferSyntax& ts) {
  file.GetHeader().Replace(stringElement(gdcm::Tag(0x0002, 0x0010), gdcm::VR::UI, ts.GetString()));
  file.GetHeader().SetDataSetTransferSyntax(ts);
  updateMetaGroupLength(file);
}

void updateMetaGroupLength(gdcm::File& file) {
  gdcm::FileMetaInformation& meta = file.GetHeader();
  const gdcm::Tag group_length(0x0002, 0x0000);
  if (!meta.FindDataElement(group_length)) return;
  std::uint32_t total = 0;
  for (const gdcm::DataElement& de : meta.GetDES())
    if (de.GetTag() != group_length) total += static_cast<std::uint32_t>(de.GetLength<gdcm::ExplicitDataElement>());
  gdcm::DataElement de(group_length);
  de.SetVR(gdcm::VR::UL);
  de.SetByteValue(reinterpret_cast<const char*>(&total), 4);  // file meta is always little endian
  meta.Replace(de);
}

}  // namespace ctd
