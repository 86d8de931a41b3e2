#include "DicomEdits.h"

#include <gdcmDataElement.h>
#include <gdcmReader.h>
#include <gdcmWriter.h>

#include <fstream>
#include <stdexcept>

namespace ctd::test {

void editDicom(const std::filesystem::path& file, const std::function<void(gdcm::File&)>& edit) {
  gdcm::Reader reader;
  reader.SetFileName(file.string().c_str());
  if (!reader.Read()) throw std::runtime_error("editDicom: GDCM cannot read " + file.string());
  // The reader's own File: gdcm::Writer::SetFile keeps a reference-counted
  // pointer to it, so a copy on the stack would be freed twice.
  gdcm::File& f = reader.GetFile();
  edit(f);
  gdcm::Writer writer;
  writer.SetFile(f);
  writer.CheckFileMetaInformationOff();  // keep the meta group as edited
  writer.SetFileName(file.string().c_str());
  if (!writer.Write()) throw std::runtime_error("editDicom: GDCM cannot write " + file.string());
}

void setValue(gdcm::DataSet& ds, const gdcm::Tag& tag, gdcm::VR vr, std::string value) {
  if (value.size() % 2) value += vr == gdcm::VR::UI ? '\0' : ' ';
  gdcm::DataElement de(tag);
  de.SetVR(vr);
  de.SetByteValue(value.data(), static_cast<std::uint32_t>(value.size()));
  ds.Replace(de);
}

void setUS(gdcm::DataSet& ds, const gdcm::Tag& tag, std::uint16_t value) {
  const char bytes[2] = {static_cast<char>(value & 0xFF), static_cast<char>(value >> 8)};
  gdcm::DataElement de(tag);
  de.SetVR(gdcm::VR::US);
  de.SetByteValue(bytes, 2);
  ds.Replace(de);
}

void removeElement(gdcm::DataSet& ds, const gdcm::Tag& tag) { ds.Remove(tag); }

std::string fileBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFileBytes(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::size_t pixelDataTagOffset(const std::string& bytes) {
  const std::size_t at = bytes.rfind(std::string("\xE0\x7F\x10\x00", 4));
  if (at == std::string::npos) throw std::runtime_error("no PixelData tag");
  return at;
}

void replaceOnce(const std::filesystem::path& file, const std::string& from, const std::string& to) {
  std::string bytes = fileBytes(file);
  const std::size_t at = bytes.find(from);
  if (at == std::string::npos) throw std::runtime_error("replaceOnce: pattern not in " + file.string());
  bytes.replace(at, from.size(), to);
  writeFileBytes(file, bytes);
}

}  // namespace ctd::test
