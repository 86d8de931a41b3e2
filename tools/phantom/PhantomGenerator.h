#pragma once
// Test tool: an anthropomorphic head(+neck) CT phantom built from analytic
// shapes in a head frame, posed in the scanner, with an exact label map and
// exact face landmarks. The face segmenters are tested against it.
//
// Head frame: same handedness as LPS (x = patient left, y = posterior,
// z = head), origin near the middle of the head, millimetres of an adult head.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/Vec3.h"
#include "volume/Volume.h"

namespace ctd::phantom {

enum class PhantomFov {
  FullHead,       // chin to vertex
  FaceCutTop,     // the slab ends between the nose tip and the brow
  FaceCutBottom,  // the slab starts between the chin and the nose tip (no chin)
  FaceOutside,    // vault only: no face voxel in view
  NeckOnly,       // below the chin
};
const char* toString(PhantomFov f);

// What the voxels are (ground truth). Body tissue = every label but Air and Table.
enum Label : std::uint8_t {
  Air = 0,
  SoftTissue = 1,     // skin, scalp, face and head soft tissue, eyelids, orbital fat
  Skull = 2,          // vault, brow ridge, facial skeleton
  CranialCavity = 3,  // brain + CSF inside the skull
  Globe = 4,
  Nose = 5,
  Lips = 6,
  Chin = 7,           // chin soft tissue
  Ear = 8,            // pinna and tragus
  Mandible = 9,
  Neck = 10,          // neck soft tissue and spinal cord
  InternalAir = 11,   // nasal cavity, sinuses, airway
  Teeth = 12,
  Spine = 13,
  Table = 14,         // couch plate (not body)
};
inline bool isBody(std::uint8_t label) { return label != Air && label != Table; }

struct PhantomSpec {
  unsigned seed = 1;  // noise, metal streaks
  double yaw_deg = 0, pitch_deg = 0, roll_deg = 0;  // about z, x, y of the head frame
  Vec3 translation{0, 0, 0};  // LPS position of the head-frame origin
  bool prone = false;         // image rows/columns flipped (HFP) and the couch in front of the face
  PhantomFov fov = PhantomFov::FullHead;
  double slice_step_mm = 2.0;  // ImagePositionPatient step along the scanner axis (LPS z)
  double pixel_spacing_mm = 1.0;
  std::size_t matrix = 256;    // rows = columns
  double gantry_tilt_deg = 0;  // image planes tilted about LPS x, positions still step along z
  double noise_hu = 10;        // Gaussian noise standard deviation
  bool dental_metal = false;   // metal-bright teeth and streaks across their slices
  bool open_mouth = false;     // mandible rotated ~18 degrees open about the jaw joint
  double scale = 1.0;          // 0.75 = child
  bool soft_tissue = true;     // false: bare skull (no skin, no face surface)
  bool table = true;

  // A random pose / field of view / acquisition (angles within +-25 degrees).
  static PhantomSpec random(unsigned seed);
  std::string describe() const;
};

struct Landmark {
  std::string name;  // nose_tip, nasion, eyelid_left, eyelid_right, upper_lip, lower_lip, chin, tragus_left, tragus_right
  Vec3 lps;          // on the skin surface, patient LPS mm
};

struct PhantomCase {
  PhantomSpec spec;
  Volume ct;                       // HU on the (possibly tilted) native grid
  VoxelMask labels;                // Label per voxel, same grid
  std::vector<Landmark> landmarks; // all of them, in view or not
  std::optional<Vec3> landmark(const std::string& name) const;
};

PhantomCase makePhantom(const PhantomSpec& spec);

// The same case without voxels: the native grid's geometry (slice positions,
// directions, sizes) and the landmarks, with `ct.hu` and `labels` left empty.
// Cheap: for checking which landmarks a field of view holds.
PhantomCase makePhantomLayout(const PhantomSpec& spec);

// Label of a head-frame point of the unscaled adult head (exposed for tests).
Label headLabel(const Vec3& h, bool open_mouth, bool soft_tissue);

}  // namespace ctd::phantom
