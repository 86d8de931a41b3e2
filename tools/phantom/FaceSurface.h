#pragma once
// The front of the phantom's face as a height field: for each (x, z) of the
// head frame, how far forward (-y, mm) the skin stands. Built from the forms a
// face detector relies on: a brow ridge over eye sockets, closed lids draped
// over the globes, a nose with bridge, tip and alae, cheeks, upper and lower
// lips with a mouth line, a labiomental fold and a chin. Smooth, so that its
// render reads as a face and not as balls and bars stuck on a head.
#include <vector>

namespace ctd::phantom {

struct FaceSurfaceShape {
  double globe_x, globe_y, globe_z, globe_r;  // the globes (head frame, mm)
  double nasion_z, nose_tip_z, nose_base_z;  // the nose stands on the face between these
};

class FaceSurface {
 public:
  // Extent of the height field (head frame, mm); outside it there is no face.
  static constexpr double kMaxX = 62, kMinZ = -92, kMaxZ = 34;

  explicit FaceSurface(const FaceSurfaceShape& shape);

  // Forward extent of the skin at (x, z): the upper face (above the mouth),
  // and the lower face (lips, chin) in the lower jaw's frame.
  double upper(double x, double z) const { return lookup(upper_, x, z); }
  double lower(double x, double z) const { return lookup(lower_, x, z); }
  // The same without the nose: what lies in front of this is nose.
  double withoutNose(double x, double z) const { return lookup(plain_, x, z); }

 private:
  static constexpr double kStep = 0.25;
  int nx_ = 0, nz_ = 0;
  std::vector<float> upper_, lower_, plain_;
  double lookup(const std::vector<float>& t, double x, double z) const;
};

}  // namespace ctd::phantom
