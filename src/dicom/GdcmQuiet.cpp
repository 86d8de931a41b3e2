#include "dicom/GdcmQuiet.h"

#include <gdcmTrace.h>

#include <mutex>

namespace ctd {

void quietGdcm() {
  // Once: the switches are plain globals and loader threads call this too.
  static std::once_flag once;
  std::call_once(once, [] {
    gdcm::Trace::WarningOff();
    gdcm::Trace::DebugOff();
    // Errors too: every failure surfaces as a ctd::Error naming the file.
    gdcm::Trace::ErrorOff();
  });
}

}  // namespace ctd
