#pragma once
// DicomInstance <-> bytes, so that the header pass can run in a child process
// (IsolatedFilePass) and hand its records back through a pipe. Same machine,
// same build: native byte order, no versioning.
#include <string>
#include <string_view>

#include "dicom/DicomInstance.h"

namespace ctd {

std::string encodeInstance(const DicomInstance& inst);

// Throws ctd::Error when the bytes are not a whole record.
DicomInstance decodeInstance(std::string_view bytes);

}  // namespace ctd
