#include "dicom/GdcmQuiet.h"

#include <gdcmTrace.h>

namespace ctd {

void quietGdcm() {
  gdcm::Trace::WarningOff();
  gdcm::Trace::DebugOff();
  // Errors too: every failure surfaces as a ctd::Error naming the file.
  gdcm::Trace::ErrorOff();
}

}  // namespace ctd
