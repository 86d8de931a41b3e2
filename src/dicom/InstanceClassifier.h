#pragma once
// Decides what a DICOM file is for ctdeface (InstanceKind + a one-line reason)
// from the header fields already read into the DicomInstance.
#include "dicom/DicomInstance.h"

namespace ctd {

void classifyInstance(DicomInstance& inst);

}  // namespace ctd
