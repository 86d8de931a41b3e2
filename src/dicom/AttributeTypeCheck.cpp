#include "dicom/AttributeTypeCheck.h"

#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmSequenceOfItems.h>

#include <cstdio>

#include "core/Error.h"

namespace ctd {
namespace {

constexpr int kMaxDepth = 16;

bool checkedGroup(std::uint16_t group) { return group == 0x0018 || group == 0x0020 || group == 0x0028; }

void check(const gdcm::DataSet& ds, const std::filesystem::path& file, const gdcm::Dict& dict, int depth) {
  if (depth > kMaxDepth) return;
  for (const gdcm::DataElement& de : ds.GetDES()) {
    const gdcm::Tag& tag = de.GetTag();
    const gdcm::VR vr = de.GetVR();
    // Only sequences GDCM has parsed already (explicit VR): parsing raw bytes
    // here (GetValueAsSQ) would meet the same assertions.
    if (const auto* sq = de.IsEmpty() ? nullptr : dynamic_cast<const gdcm::SequenceOfItems*>(&de.GetValue())) {
      for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems(); ++i)
        check(sq->GetItem(i).GetNestedDataSet(), file, dict, depth + 1);
      continue;
    }
    if (!checkedGroup(tag.GetGroup()) || tag.IsPrivate() || tag.GetElement() == 0) continue;
    if (vr == gdcm::VR::INVALID || vr == gdcm::VR::UN) continue;  // implicit: GDCM takes the dictionary's
    const gdcm::VR expected = dict.GetDictEntry(tag).GetVR();
    if (expected == gdcm::VR::INVALID || expected.Compatible(vr)) continue;
    char text[64];
    std::snprintf(text, sizeof text, "(%04X,%04X)", tag.GetGroup(), tag.GetElement());
    throw Error(file, std::string("corrupt header: element ") + text + " has VR " + gdcm::VR::GetVRString(vr) +
                          ", the dictionary says " + gdcm::VR::GetVRString(expected));
  }
}

}  // namespace

void checkAttributeTypes(const gdcm::DataSet& ds, const std::filesystem::path& file) {
  check(ds, file, gdcm::Global::GetInstance().GetDicts().GetPublicDict(), 0);
}

}  // namespace ctd
