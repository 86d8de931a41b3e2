#include "phantom/FaceSurface.h"

#include <algorithm>
#include <cmath>

namespace ctd::phantom {
namespace {

double sq(double v) { return v * v; }
double bump(double x, double z, double cx, double cz, double rx, double rz) {
  return std::exp(-sq((x - cx) / rx) - sq((z - cz) / rz));
}

// Forward extent of the face with every feature but the nose, in the frame
// where `z` is measured (head frame above the mouth, jaw frame below it).
double plainFace(double x, double z, const FaceSurfaceShape& s) {
  const double ax = std::abs(x);
  // Turns back towards the temples and the angles of the jaw.
  double d = 90 - 0.004 * sq(ax) - 0.08 * sq(std::max(0.0, ax - 36));
  // Forehead slopes back above the brow (the scalp takes over above it).
  d -= 0.06 * sq(std::max(0.0, z - 20));
  // Brow ridge, over the sockets and the glabella.
  d += 6 * bump(ax, z, 24, 14, 32, 7);
  // Eye sockets: the hollow around the closed eye, under the brow.
  d -= 9 * bump(ax, z, s.globe_x, s.globe_z + 3, 16, 11);
  // Cheek bones, below and outside the sockets.
  d += 5 * bump(ax, z, 40, -18, 15, 12);
  // Upper lip under the nose; the mouth line is cut as an air slit by the generator.
  d += 4 * bump(ax, z, 0, -44, 19, 5);
  // Lower lip, the fold under it, the chin (jaw frame).
  d += 4 * bump(ax, z, 0, -56, 17, 4.5);
  d -= 4 * bump(ax, z, 0, -64, 24, 4);
  d += 4 * bump(ax, z, 0, -74, 17, 7);
  // Under the chin the skin turns back to the neck.
  d -= 1.5 * sq(std::max(0.0, -78 - z));
  // Closed lids drape over the globes, 2 mm in front of them.
  const double r2 = sq(ax - s.globe_x) + sq(z - s.globe_z);
  if (r2 < sq(s.globe_r)) d = std::max(d, -s.globe_y + std::sqrt(sq(s.globe_r) - r2) + 2);
  return d;
}

// How far the nose stands in front of its base plane (0 outside it).
double nose(double x, double z, const FaceSurfaceShape& s) {
  const double ax = std::abs(x);
  double p = 0, w = 0;  // protrusion on the midline, half-width at the base
  if (z <= s.nasion_z && z >= s.nose_tip_z) {
    const double f = (s.nasion_z - z) / (s.nasion_z - s.nose_tip_z);
    p = 2 + 22 * f;
    w = 6 + 11 * f;
  } else if (z < s.nose_tip_z && z >= s.nose_base_z) {
    p = 24 * std::sqrt(std::max(0.0, 1 - sq((s.nose_tip_z - z) / (s.nose_tip_z - s.nose_base_z))));
    w = 17;
  }
  double h = w > 0 ? p * std::max(0.0, 1 - sq(ax / w)) : 0;
  // Alae: the wings either side of the tip.
  h = std::max(h, 7 * bump(ax, z, 12, s.nose_tip_z - 3, 5, 5));
  return h;
}

}  // namespace

FaceSurface::FaceSurface(const FaceSurfaceShape& s) {
  nx_ = static_cast<int>(std::lround(2 * kMaxX / kStep)) + 1;
  nz_ = static_cast<int>(std::lround((kMaxZ - kMinZ) / kStep)) + 1;
  upper_.resize(static_cast<std::size_t>(nx_) * nz_);
  lower_.resize(upper_.size());
  plain_.resize(upper_.size());
  for (int k = 0; k < nz_; ++k)
    for (int i = 0; i < nx_; ++i) {
      const double x = -kMaxX + i * kStep, z = kMinZ + k * kStep;
      const double plain = plainFace(x, z, s);
      // The nose stands on the face (its base plane is the face's own midline).
      const double with_nose = plain + nose(x, z, s);
      const std::size_t at = static_cast<std::size_t>(k) * nx_ + i;
      plain_[at] = static_cast<float>(plain);
      upper_[at] = static_cast<float>(with_nose);
      lower_[at] = static_cast<float>(plain);
    }
}

double FaceSurface::lookup(const std::vector<float>& t, double x, double z) const {
  const double fx = std::clamp((x + kMaxX) / kStep, 0.0, nx_ - 1.001);
  const double fz = std::clamp((z - kMinZ) / kStep, 0.0, nz_ - 1.001);
  const int i = static_cast<int>(fx), k = static_cast<int>(fz);
  const double a = fx - i, b = fz - k;
  const std::size_t at = static_cast<std::size_t>(k) * nx_ + i;
  const double r0 = t[at] + a * (t[at + 1] - t[at]);
  const double r1 = t[at + nx_] + a * (t[at + nx_ + 1] - t[at + nx_]);
  return r0 + b * (r1 - r0);
}

}  // namespace ctd::phantom
