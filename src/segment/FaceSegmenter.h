#pragma once
// A face segmentation backend: Volume (HU) -> face mask on the same grid.
#include <string>

#include "volume/Volume.h"

namespace ctd {

struct FaceSegmentation {
  VoxelMask mask;            // same grid as the input volume; 1 = face voxel to replace
  bool face_in_view = true;  // false: "no face in view" (mask empty)
  std::string note;          // one line for the log / report
};

class FaceSegmenter {
 public:
  virtual ~FaceSegmenter() = default;
  virtual std::string name() const = 0;
  virtual FaceSegmentation segment(const Volume& v) = 0;
};

}  // namespace ctd
