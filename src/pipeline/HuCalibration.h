#pragma once
// A CT series whose rescale header lies (values stored as HU + 1024 with
// intercept 0, as in VTK's classic head) would look like a body without air to
// the segmenter, which then reports "no face in view" and writes the face out
// unchanged. So the calibration is checked before segmenting: a head CT always
// holds air (or scanner padding) around the patient.
#include <optional>
#include <string>

#include "volume/Volume.h"

namespace ctd {

struct HuCalibration {
  double offset = 0;  // true HU = value - offset
  std::string note;   // set when an offset was assumed
};

// `forced`: the user's --hu-offset. Without it, detects HU+1024 storage and
// throws ctd::Error when the values cannot be HU at all (nothing near air).
HuCalibration checkHuCalibration(const Volume& v, std::optional<double> forced = std::nullopt);

}  // namespace ctd
