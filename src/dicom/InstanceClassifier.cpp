#include "dicom/InstanceClassifier.h"

#include <algorithm>
#include <string_view>

namespace ctd {
namespace {

constexpr std::string_view kDicomDir = "1.2.840.10008.1.3.10";
constexpr std::string_view kCt = "1.2.840.10008.5.1.4.1.1.2";
constexpr std::string_view kEnhancedCt = "1.2.840.10008.5.1.4.1.1.2.1";
constexpr std::string_view kLegacyCt = "1.2.840.10008.5.1.4.1.1.2.2";
constexpr std::string_view kSecondaryCapturePrefix = "1.2.840.10008.5.1.4.1.1.7";

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "\\" : "") + v[i];
  return s;
}

bool imageTypeHas(const DicomInstance& inst, std::string_view value) {
  return std::any_of(inst.image_type.begin(), inst.image_type.end(), [&](const std::string& t) { return t == value; });
}

// Non-image SOP classes ctdeface meets next to CT series (PS3.4 Annex B).
const char* nonImageClass(std::string_view sop) {
  if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.88.")) return "structured report";
  if (sop == "1.2.840.10008.5.1.4.1.1.66.4") return "segmentation";
  if (sop == "1.2.840.10008.5.1.4.1.1.481.3") return "RT structure set";
  if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.11.")) return "presentation state";
  if (sop == "1.2.840.10008.5.1.4.1.1.104.1") return "encapsulated PDF";
  if (sop == "1.2.840.10008.5.1.4.1.1.66") return "raw data";
  return nullptr;
}

// Values of ImageType (value 3+) that scanners use for pages rendered for
// people (dose reports, patient info, exam summaries), not image volumes.
bool screenshotImageType(const DicomInstance& inst) {
  static const char* kScreens[] = {"SCREEN SAVE", "SCREENSHOT", "DOSE_INFO", "DOSE REPORT", "PATIENT_INFO",
                                   "REF_SURVIEW", "RESULTS", "CAPTURE", "DOSE_REPORT"};
  return std::any_of(std::begin(kScreens), std::end(kScreens), [&](const char* s) { return imageTypeHas(inst, s); });
}

void set(DicomInstance& inst, InstanceKind kind, std::string reason) {
  inst.kind = kind;
  inst.kind_reason = std::move(reason);
}

}  // namespace

void classifyInstance(DicomInstance& inst) {
  const std::string& sop = inst.sop_class_uid;
  const std::string type = inst.image_type.empty() ? "" : " (ImageType " + joined(inst.image_type) + ")";
  if (sop == kDicomDir) return set(inst, InstanceKind::DirectoryRecord, "DICOMDIR media directory");
  if (const char* what = nonImageClass(sop)) return set(inst, InstanceKind::NonImage, std::string(what) + " (SOP class " + sop + ")");
  if (!inst.has_pixel_data) return set(inst, InstanceKind::NonImage, "no PixelData (SOP class " + sop + ")");
  if (startsWith(sop, kSecondaryCapturePrefix))
    return set(inst, InstanceKind::SecondaryCapture, "secondary capture storage" + type);
  const bool ct_class = sop == kCt || sop == kEnhancedCt || sop == kLegacyCt;
  if (imageTypeHas(inst, "LOCALIZER") || imageTypeHas(inst, "PROJECTION IMAGE"))
    return set(inst, InstanceKind::Localizer, "localizer" + type);
  if (inst.samples_per_pixel != 1 || screenshotImageType(inst) ||
      (imageTypeHas(inst, "SECONDARY") && inst.photometric.rfind("MONOCHROME", 0) != 0))
    return set(inst, InstanceKind::SecondaryCapture,
               "rendered capture" + (type.empty() ? " (" + inst.photometric + ")" : type));
  if (!ct_class) {
    const std::string modality = inst.modality.empty() ? "unknown modality" : inst.modality;
    return set(inst, InstanceKind::OtherImage, "not a CT image (" + modality + ", SOP class " + sop + ")");
  }
  set(inst, InstanceKind::CtImage, sop == kCt ? "CT image" : (sop == kEnhancedCt ? "Enhanced CT image" : "Legacy Converted Enhanced CT image"));
}

}  // namespace ctd
