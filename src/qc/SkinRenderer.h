#pragma once
// Orthographic CPU ray casting of the skin (the body/air iso-surface) of a
// SkinGrid, from the front, 45 degree obliques and both sides, in patient
// space: "front" looks along +Y (posterior) from the anterior side with
// superior (+Z) up, whatever the scanner's slice orientation. Only the largest
// body component is drawn, so the couch, head holder and stray noise cannot
// hide the face. Shaded with gradient normals and a key light above the viewer.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "qc/SkinGrid.h"

namespace ctd::qc {

// Where the viewer stands, seen from the patient: the obliques are 45 degrees
// from the front towards the patient's left / right, the sides are profiles.
enum class View { Front, LeftOblique, RightOblique, Left, Right };
const char* toString(View v);
const std::vector<View>& allViews();

struct RenderOptions {
  // Image pixel size (orthographic): finer than the 1.5 mm grid, so that a face
  // (~120 mm brow to chin) spans ~120 pixels and the detector's scaling adds
  // no blur of its own.
  double pixel_mm = 1.0;
  float iso_hu = -400.0f;  // skin surface: halfway between air and fat
  // The key light comes from this far above the viewer's line of sight (0: a
  // light at the viewer). Lit from above, as in a portrait, the surfaces that
  // face down (under the brow, the upper sockets, under nose, lips and chin)
  // fall dark: the light a face detector trained on photographs expects (the
  // real Slicer head scores 0.74 with 35 degrees and 0.48 with 0, README).
  double light_elevation_deg = 35;
  // Cast shadows up to this far (mm) from the key light: the brow shades the
  // closed eyes and the nose its base; 0 (default: they cost render time and did
  // not help the detector on phantoms, README) turns them off.
  double shadow_mm = 0;
};

struct SkinImage {
  View view = View::Front;
  cv::Mat image;  // CV_8UC1; background 0
};

// The part of the grid the renders show: the largest connected body
// component (plus a margin), its bounding box, and empty-space distances.
struct BodyRegion {
  std::vector<std::uint8_t> inside;  // per grid voxel
  std::size_t lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0};  // bounding box (inclusive); lo > hi: no body
  std::vector<std::uint8_t> skip;    // per block of 4^3 voxels: Chebyshev distance to a body block
  std::size_t bx = 0, by = 0, bz = 0;
  bool empty() const { return hi[0] < lo[0]; }
};

struct BeforeAfterRenders {
  std::vector<SkinImage> before, after;
};

class SkinRenderer {
 public:
  explicit SkinRenderer(RenderOptions opt = {}) : opt_(opt) {}

  // The body in `values` (use grid.hu: the renders before and after defacing then
  // share one body, and the defaced face is not mistaken for the table).
  BodyRegion body(const SkinGrid& grid, const std::vector<float>& values) const;

  // Renders `values` (on `grid`'s geometry: grid.hu, or grid.defacedValues())
  // inside `body` from each view.
  std::vector<SkinImage> render(const SkinGrid& grid, const std::vector<float>& values, const BodyRegion& body,
                                const std::vector<View>& views) const;

  // The same images as render(grid.hu) and render(grid.defacedValues(fill_hu)),
  // cheaper: the after pass casts again only the rays that came near the face
  // mask, and needs no defaced copy of the grid.
  BeforeAfterRenders renderBeforeAfter(const SkinGrid& grid, double fill_hu, const BodyRegion& body,
                                       const std::vector<View>& views) const;

 private:
  RenderOptions opt_;
};

// The views side by side (left to right as given), on one 8-bit image.
cv::Mat sideBySide(const std::vector<SkinImage>& images);

}  // namespace ctd::qc
