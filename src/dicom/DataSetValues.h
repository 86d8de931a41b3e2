#pragma once
// Typed reads of attribute values from a GDCM data set (internal to the dicom
// module). Missing or empty attributes read as empty / std::nullopt, never throw.
#include <gdcmDataSet.h>
#include <gdcmTag.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ctd::dcm {

// The value as text with DICOM padding (spaces, NULs) trimmed at both ends.
std::string getString(const gdcm::DataSet& ds, const gdcm::Tag& tag);
// Multi-valued text split on '\', each value trimmed.
std::vector<std::string> getStrings(const gdcm::DataSet& ds, const gdcm::Tag& tag);
// DS / IS values parsed as numbers; any unparsable or non-finite value gives an empty result.
std::vector<double> getNumbers(const gdcm::DataSet& ds, const gdcm::Tag& tag);
std::optional<double> getNumber(const gdcm::DataSet& ds, const gdcm::Tag& tag);
// Binary US value (GDCM has already swapped big-endian data to host order).
std::optional<std::uint16_t> getUS(const gdcm::DataSet& ds, const gdcm::Tag& tag);

// Copies of the nested data sets of a sequence (empty when absent).
std::vector<gdcm::DataSet> sequenceItems(const gdcm::DataSet& ds, const gdcm::Tag& tag);

}  // namespace ctd::dcm
