#include "dicom/DicomInstance.h"

namespace ctd {

const char* toString(InstanceKind k) {
  switch (k) {
    case InstanceKind::CtImage: return "CT image";
    case InstanceKind::Localizer: return "localizer";
    case InstanceKind::SecondaryCapture: return "secondary capture";
    case InstanceKind::NonImage: return "non-image object";
    case InstanceKind::OtherImage: return "other image";
    case InstanceKind::DirectoryRecord: return "directory record";
  }
  return "unknown";
}

}  // namespace ctd
