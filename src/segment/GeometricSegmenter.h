#pragma once
// The built-in face segmenter: no weights, only HU thresholds, morphology and
// geometry relative to the cranial cavity. See docs/geometric-segmenter.md.
#include "core/Vec3.h"
#include "segment/FaceSegmenter.h"

namespace ctd {

struct GeometricOptions {
  // Hard guard: no voxel closer than this to the detected cranial cavity is
  // ever masked (checked again on the native grid after mapping back).
  double brain_margin_mm = 8;
  // Face tissue starts this far from the cavity: keeps the forehead scalp over
  // the frontal bone (about 12-15 mm from the brain) while the eyelids, nasion
  // and everything below lie farther away.
  double face_brain_distance_mm = 15;
  // Skin-side depth removed (nose wholly, lids and the front of the globes, lips, chin).
  double face_depth_mm = 20;
  // Depth of the smooth cut behind the face's low-passed front (about the
  // midline; it tapers towards the cheeks): behind the globes, the orbits'
  // rims, the nasal aperture and the front teeth, so no facial relief is left
  // to read as a face.
  double face_cut_depth_mm = 50;
  // The smooth cut stops this far from the cavity. At brain_margin_mm (8) the
  // GE head's orbits are hollowed to their apex around the ethmoid, which then
  // stands as a nose-like ridge; at 15 the backs of the phantoms' globes stay
  // as two eyes on either side of the nasal cavity.
  double cut_brain_distance_mm = 11;
  // Face sector: half-angle about the anterior axis seen from the cavity's vertical axis.
  double face_half_angle_deg = 45;
  bool remove_ears = false;
  double ear_depth_mm = 15;
  double coarse_spacing_mm = 2;
  double body_hu = -400;  // tissue vs air
  double bone_hu = 300;
  double min_cavity_ml = 15;  // smaller bone-enclosed soft-tissue regions are not a cranial cavity
};

// What the last run found (for logs and tests).
struct GeometricDiagnostics {
  bool cavity_found = false;
  double cavity_ml = 0;
  Vec3 cavity_centroid{0, 0, 0};  // LPS mm
  Vec3 anterior{0, -1, 0};        // horizontal anterior axis used for the face sector
  double face_surface_ml = 0;     // soft-tissue skin far from the brain inside the sector
  double lowest_face_bone_z = 0;  // LPS z of the lowest facial bone (inferior limit), if any
  double nose_protrusion_mm = 0;  // how far the nose's tip stands in front of the cheeks beside it
  int nose_slices = 0;            // coarse axial slices carved to the cheeks' level (0: no nose found)
};

class GeometricSegmenter : public FaceSegmenter {
 public:
  explicit GeometricSegmenter(GeometricOptions options = {}) : opt_(options) {}
  std::string name() const override { return "geometric"; }
  FaceSegmentation segment(const Volume& v) override;
  const GeometricDiagnostics& diagnostics() const { return diag_; }

 private:
  GeometricOptions opt_;
  GeometricDiagnostics diag_;
};

}  // namespace ctd
