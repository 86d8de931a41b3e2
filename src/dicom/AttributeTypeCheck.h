#pragma once
// Debian's GDCM 3.0.21 asserts (aborts) when its image reader meets an image
// attribute whose VR in the file differs from the dictionary's, e.g.
// RescaleIntercept (0028,1052) stored as US: gdcm::Attribute::SetFromDataElement
// asserts `GetVR().Compatible(de.GetVR())`. Such a file is refused from its
// header, before GDCM decodes it.
#include <filesystem>

#include <gdcmDataSet.h>

namespace ctd {

// Throws ctd::Error naming `file` and the element when an explicit VR in the
// geometry, acquisition and image pixel groups (0018, 0020, 0028), at any
// depth, is not compatible with the DICOM dictionary's VR for its tag.
void checkAttributeTypes(const gdcm::DataSet& ds, const std::filesystem::path& file);

}  // namespace ctd
