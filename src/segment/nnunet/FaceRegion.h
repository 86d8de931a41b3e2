#pragma once
// Where in a head CT a face can be, as a box for `--roi face`: the built-in geometric segmenter's
// face mask, widened by a margin on every side (it and the nnU-Net model need not agree on the
// face's exact extent), and kept within that margin of the body's box. nnU-Net then evaluates only its
// own tiles that overlap this box (SlidingWindowOptions::roi), so inside the box the prediction is
// the one of the whole image; outside it is background.
#include <string>

#include "segment/nnunet/ImageGrid.h"
#include "volume/Volume.h"

namespace ctd::nnunet {

struct FaceRegionOptions {
  bool enabled = false;     // false: the whole image is predicted (exact nnU-Net)
  double margin_mm = 40;    // widening of the geometric face mask's box on every side
};

struct FaceRegion {
  bool found = false;  // false: no face found geometrically; the caller predicts everything
  Box3 box;            // [k][j][i] of the volume (nnU-Net's [z][y][x]), half-open
  std::string note;    // one line for the log
};

FaceRegion findFaceRegion(const Volume& v, double margin_mm);

}  // namespace ctd::nnunet
