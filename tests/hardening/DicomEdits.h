#pragma once
// Test helper: the ways the bad-input suite breaks a valid DICOM file, either
// through GDCM (edit the data set, write it back) or as raw bytes (what GDCM
// would refuse to write: wrong lengths, cut files, unknown syntaxes).
#include <gdcmFile.h>
#include <gdcmTag.h>
#include <gdcmVR.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace ctd::test {

// Reads `file` with GDCM, applies `edit` and writes it back in place.
void editDicom(const std::filesystem::path& file, const std::function<void(gdcm::File&)>& edit);

void setValue(gdcm::DataSet& ds, const gdcm::Tag& tag, gdcm::VR vr, std::string value);
void setUS(gdcm::DataSet& ds, const gdcm::Tag& tag, std::uint16_t value);
void removeElement(gdcm::DataSet& ds, const gdcm::Tag& tag);

std::string fileBytes(const std::filesystem::path& file);
void writeFileBytes(const std::filesystem::path& file, const std::string& bytes);

// Offset of the PixelData element's tag (the last (7FE0,0010) in the file).
std::size_t pixelDataTagOffset(const std::string& bytes);

// Replaces the one occurrence of `from` (which must exist) by `to`.
void replaceOnce(const std::filesystem::path& file, const std::string& from, const std::string& to);

}  // namespace ctd::test
