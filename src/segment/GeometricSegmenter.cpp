#include "segment/GeometricSegmenter.h"

#include <malloc.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <sstream>

#include "segment/BoneRingGuard.h"
#include "segment/CoarseMorphology.h"
#include "segment/SmoothMaskPullback.h"
#include "volume/GridResampler.h"
#include "volume/SliceThreads.h"

namespace ctd {
namespace {

using coarse::Bits;
using coarse::Grid;
using coarse::sampleField;

// Frees the storage of each vector (`v = {}` would only clear it).
template <class... V>
void release(V&... v) {
  (std::vector<typename V::value_type>().swap(v), ...);
}

constexpr float kOutsideFov = -5000.0f;  // resampling sentinel: no native voxel here
constexpr double kPi = 3.14159265358979323846;

// The coarse LPS grid with one extra voxel on every side: the extra z slices
// act as the caps of a field of view that cuts through the head.
Volume paddedGrid(const Volume& v, double spacing) {
  Volume g = lpsGridFor(v, spacing);
  const Vec3 shift{spacing, spacing, spacing};
  Volume p;
  p.nx = g.nx + 2;
  p.ny = g.ny + 2;
  p.nz = g.nz + 2;
  p.row_dir = g.row_dir;
  p.col_dir = g.col_dir;
  p.normal = g.normal;
  p.col_spacing = p.row_spacing = spacing;
  const Vec3 origin = g.slice_pos.front() - shift;
  for (std::size_t k = 0; k < p.nz; ++k) p.slice_pos.push_back(origin + Vec3{0, 0, spacing * static_cast<double>(k)});
  return p;
}


struct Cavity {
  Bits mask;
  double ml = 0;
  Vec3 centroid{0, 0, 0};
  Vec3 anterior{0, -1, 0};
  std::string rejected;  // why no cavity was accepted
};

// Cranial cavity: soft tissue enclosed by bone (or by the caps of the field of
// view) in at least two of the three slice directions. Orbits are enclosed
// only in coronal slices and the spinal canal only in axial ones, so the vote
// keeps them out.
Cavity findCavity(const std::vector<float>& smooth, const Bits& fov, const Bits& bone, const Grid& g,
                  const Vec3& origin, const GeometricOptions& opt) {
  Cavity cav;
  const std::size_t n = g.size();
  Bits wall = coarse::close(bone, g, 1);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        const bool lateral_pad = i == 0 || j == 0 || i + 1 == g.nx || j + 1 == g.ny;
        if (!fov[idx] && !lateral_pad) wall[idx] = 1;
      }
  std::vector<std::uint8_t> votes(n, 0);
  for (unsigned dim = 0; dim < 3; ++dim) {
    const Bits filled = coarse::fillHolesPerSlice(wall, g, dim);
    for (std::size_t i = 0; i < n; ++i) votes[i] += filled[i] && !wall[i];
  }
  Bits cand(n, 0);
  for (std::size_t i = 0; i < n; ++i) cand[i] = votes[i] >= 2 && fov[i] && smooth[i] > -20 && smooth[i] < 100;
  // Cut thin bridges (optic canals, foramina) before keeping the largest part.
  // Besides the largest part, keep parts that run into a field-of-view cap: a
  // slab that ends at the orbits shows the frontal lobes' floor as pieces
  // joined to the rest of the brain only beyond the cap.
  const coarse::Components comp = coarse::components(coarse::erode(cand, g, 1), g);
  const std::size_t plane = g.nx * g.ny;
  const std::size_t min_piece = static_cast<std::size_t>(1.0 / (g.spacing * g.spacing * g.spacing / 1000.0));
  std::vector<std::uint8_t> keep(comp.sizes.size() + 1, 0);
  if (!comp.sizes.empty()) keep[1] = 1;
  for (std::size_t idx = plane; idx + plane < n; ++idx) {
    const std::uint32_t l = comp.label[idx];
    if (l > 1 && !keep[l] && comp.sizes[l - 1] >= min_piece && (!fov[idx - plane] || !fov[idx + plane])) keep[l] = 1;
  }
  Bits core(n, 0);
  for (std::size_t idx = 0; idx < n; ++idx) core[idx] = keep[comp.label[idx]];
  Bits grown = coarse::dilate(core, g, 2);
  std::size_t count = 0;
  double sx = 0, sy = 0, sz = 0, hu = 0;
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        grown[idx] = grown[idx] && cand[idx];
        if (!grown[idx]) continue;
        ++count;
        sx += static_cast<double>(i), sy += static_cast<double>(j), sz += static_cast<double>(k);
        hu += smooth[idx];
      }
  const double voxel_ml = g.spacing * g.spacing * g.spacing / 1000.0;
  cav.ml = static_cast<double>(count) * voxel_ml;
  if (cav.ml < opt.min_cavity_ml) {
    std::ostringstream o;
    o << "no bone-enclosed soft tissue large enough for a cranial cavity (" << static_cast<int>(cav.ml) << " ml)";
    cav.rejected = o.str();
    return cav;
  }
  const double mean_hu = hu / static_cast<double>(count);
  // Brain and CSF: a chest or abdomen enclosed by ribs would hold fat, organs and lungs.
  if (mean_hu < 0 || mean_hu > 70) {
    cav.rejected = "bone-enclosed region is not brain-like (mean " + std::to_string(static_cast<int>(mean_hu)) + " HU)";
    return cav;
  }
  // Most of a cranial cavity's surface touches the skull (or the field-of-view caps).
  const Bits wall_near = coarse::dilate(wall, g, 3);
  std::size_t boundary = 0, walled = 0;
  for (std::size_t k = 1; k + 1 < g.nz; ++k)
    for (std::size_t j = 1; j + 1 < g.ny; ++j)
      for (std::size_t i = 1; i + 1 < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        if (!grown[idx]) continue;
        const bool edge = !grown[idx - 1] || !grown[idx + 1] || !grown[idx - g.nx] || !grown[idx + g.nx] ||
                          !grown[idx - g.nx * g.ny] || !grown[idx + g.nx * g.ny];
        if (!edge) continue;
        ++boundary;
        walled += wall_near[idx];
      }
  if (boundary == 0 || static_cast<double>(walled) < 0.5 * static_cast<double>(boundary)) {
    cav.rejected = "bone-enclosed region is not walled by bone (" + std::to_string(walled) + " of " +
                   std::to_string(boundary) + " surface voxels, " + std::to_string(static_cast<int>(cav.ml)) + " ml)";
    return cav;
  }
  // A cranial cavity, even cut by the field of view, is thick; a spinal canal is not.
  const Bits thick = coarse::erode(grown, g, static_cast<int>(std::lround(6.0 / g.spacing)));
  if (std::count(thick.begin(), thick.end(), 1) == 0) {
    cav.rejected = "bone-enclosed region too thin for a cranial cavity";
    return cav;
  }
  cav.mask = coarse::fillHolesPerSlice(grown, g, 2);
  const double c = g.spacing;
  const double mx = sx / count, my = sy / count, mz = sz / count;
  cav.centroid = origin + Vec3{mx * c, my * c, mz * c};
  // Horizontal anterior axis: the cavity's long axis in the axial plane (a
  // brain is longer than wide), pointing to LPS anterior (-y) as the header says.
  double cxx = 0, cxy = 0, cyy = 0;
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        if (!grown[g.index(i, j, k)]) continue;
        const double dx = i - mx, dy = j - my;
        cxx += dx * dx, cxy += dx * dy, cyy += dy * dy;
      }
  const double tr = cxx + cyy, det = cxx * cyy - cxy * cxy;
  const double l1 = tr / 2 + std::sqrt(std::max(0.0, tr * tr / 4 - det)), l2 = tr - l1;
  Vec3 ax = std::abs(cxy) > 1e-9 ? normalized(Vec3{l1 - cyy, cxy, 0}) : (cyy >= cxx ? Vec3{0, 1, 0} : Vec3{1, 0, 0});
  if (ax[1] > 0) ax = -1.0 * ax;
  // Round in the axial plane, or an axis more than 40 degrees off the header's
  // anterior (a partial cavity): trust the header.
  if (l2 <= 0 || l1 / l2 < 1.15 || -ax[1] < std::cos(40 * kPi / 180)) ax = {0, -1, 0};
  cav.anterior = ax;
  return cav;
}

// The external nose stands proud of the cheeks. Cut only to face_depth_mm
// from its own tip, its base (nasal bones, septum, the walls of the nasal
// cavity) would stay as a ridge in front of the carved cheeks, and a 3D render
// would still show a nose. So, per axial slice of the nose (from its tip up to
// where it stops protruding at the nasion, and down to its base above the
// lips), the band around the nose's ridge is carved to face_depth_mm behind
// the level of the cheeks beside it instead. Built from the skin front per
// slice and lateral ray (`fronts`, -inf where no body).
struct NoseProfile {
  std::vector<double> base;     // per slice: anterior position of the cheeks; NaN: not a nose slice
  std::vector<double> lateral;  // per slice: lateral position of the nose's ridge (mm)
  double tip_protrusion = 0;    // mm in front of the cheeks
};

// Only slices k_lo..k_hi-1 are looked at (the face's height: the vault's
// crown would look like a protrusion too).
// A slice that an oblique cap cuts (`complete` 0) shows only part of the
// cheeks: below the nose it takes the nose's band from the whole slice above.
NoseProfile noseProfile(const std::vector<double>& fronts, const std::vector<std::uint8_t>& complete, std::size_t nz,
                        std::size_t k_lo, std::size_t k_hi, std::size_t bins, double c, double reach) {
  constexpr double kCentral = 25;                  // the ridge is looked for within this of the axis (mm)
  constexpr double kSideFrom = 20, kSideTo = 40;   // cheeks: this far beside the ridge (mm)
  constexpr double kTip = 8, kStill = 3;           // protrusion of the tip slice, and of the rest of the nose (mm)
  NoseProfile np{std::vector<double>(nz, std::numeric_limits<double>::quiet_NaN()), std::vector<double>(nz, 0)};
  std::vector<double> protrusion(nz, -std::numeric_limits<double>::infinity()), cheeks(nz, 0);
  const auto lateralOf = [&](std::size_t b) { return static_cast<double>(b) * c - reach; };
  for (std::size_t k = k_lo; k < std::min(k_hi, nz); ++k) {
    const double* f = &fronts[k * bins];
    std::size_t ridge = bins;
    for (std::size_t b = 0; b < bins; ++b)
      if (std::abs(lateralOf(b)) <= kCentral && std::isfinite(f[b]) && (ridge == bins || f[b] > f[ridge])) ridge = b;
    if (ridge == bins) continue;
    double side[2] = {-std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (std::size_t b = 0; b < bins; ++b) {
      const double off = lateralOf(b) - lateralOf(ridge);
      if (std::abs(off) >= kSideFrom && std::abs(off) <= kSideTo) side[off > 0] = std::max(side[off > 0], f[b]);
    }
    if (!std::isfinite(side[0]) || !std::isfinite(side[1])) continue;  // a cheek out of view
    // The more anterior cheek: the carve never goes deeper than that side's own.
    cheeks[k] = std::max(side[0], side[1]);
    protrusion[k] = f[ridge] - cheeks[k];
    np.lateral[k] = lateralOf(ridge);
  }
  const std::size_t tip =
      static_cast<std::size_t>(std::max_element(protrusion.begin(), protrusion.end()) - protrusion.begin());
  if (nz == 0 || !(protrusion[tip] >= kTip)) return np;
  np.tip_protrusion = protrusion[tip];
  np.base[tip] = cheeks[tip];
  const auto carry = [&](std::size_t k, std::size_t from) {
    np.base[k] = np.base[from];
    np.lateral[k] = np.lateral[from];
  };
  std::size_t k = tip + 1;
  for (; k < nz && protrusion[k] >= kStill; ++k) np.base[k] = cheeks[k];
  // Below the tip the nose narrows to its base; a profile rising again is the lips.
  for (k = tip; k-- > 0 && protrusion[k] >= kStill && protrusion[k] <= protrusion[k + 1] + 1;) np.base[k] = cheeks[k];
  // A cap below the nose (its tip out of view) cuts the slices there; 10 mm
  // reach the tip's remnant in the corner of the slab.
  const std::size_t last = ++k;
  while (k-- > 0 && !complete[k] && static_cast<double>(last - k) * c <= 10) carry(k, k + 1);
  return np;
}

// The cut surface in front of which everything in the face goes, as a depth
// map over (axial slice, lateral ray): the skin's front per ray with its
// narrow protrusions taken away (a minimum over +-kLateralMin mm beside and
// +-kVerticalMin mm above and below: the nose, lips, brow and chin stand on
// the face no wider than that), low-passed (two box means over +-kSmooth mm);
// its value on the face's axis, moved `depth` mm back, is the cut's position
// across the whole slice. Cut only face_depth_mm behind the skin, the carved
// surface would keep the face's own relief (orbits, nasal aperture, teeth)
// and still read as a face; a smooth cut behind it leaves a featureless
// surface. NaN where no skin lies on the ray.
//
// Flat across each slice, not following the skin's curve back at the sides:
// a cut whose depth tapered from full on the axis to a third at the sector's
// edge (measured as angles from the slice's apex) was a concave basin — and a
// trench a few millimetres wide where the apex lay close behind the front (a
// pitched head). In an oblique render its near wall is in shadow and its far
// wall a lit pillar: eye sockets and a nose to a face detector (after on 5-6
// of 50 unseen poses). A flat cut ends where the skin curves back behind it,
// in a convex edge that casts no shadow (see kPlaneHalfAngleDeg).
std::vector<double> smoothCutSurface(const std::vector<double>& fronts, std::size_t nz, std::size_t bins, double c,
                                     double reach, double depth, const std::vector<double>& slice_weight) {
  constexpr double kLateralMin = 20, kVerticalMin = 8, kSmooth = 24;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> a(nz * bins, nan), b(nz * bins, nan);
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::isfinite(fronts[i])) a[i] = fronts[i];
  // One pass along bins (dim 0) or slices (dim 1): minimum or mean of the
  // defined values within r cells.
  enum class Op { Min, Mean };
  const auto pass = [&](const std::vector<double>& in, std::vector<double>& out, unsigned dim, double r_mm, Op op) {
    const auto r = static_cast<std::ptrdiff_t>(std::lround(r_mm / c));
    const auto len = static_cast<std::ptrdiff_t>(dim == 0 ? bins : nz);
    for (std::size_t k = 0; k < nz; ++k)
      for (std::size_t q = 0; q < bins; ++q) {
        const std::size_t at = k * bins + q;
        if (std::isnan(in[at])) {
          out[at] = nan;
          continue;
        }
        const auto p0 = static_cast<std::ptrdiff_t>(dim == 0 ? q : k);
        double acc = op == Op::Min ? std::numeric_limits<double>::infinity() : 0;
        std::size_t cnt = 0;
        for (std::ptrdiff_t p = std::max<std::ptrdiff_t>(0, p0 - r); p <= std::min(len - 1, p0 + r); ++p) {
          const double x = in[dim == 0 ? k * bins + static_cast<std::size_t>(p) : static_cast<std::size_t>(p) * bins + q];
          if (std::isnan(x)) continue;
          acc = op == Op::Min ? std::min(acc, x) : acc + x;
          ++cnt;
        }
        out[at] = op == Op::Mean ? acc / static_cast<double>(cnt) : acc;
      }
  };
  pass(a, b, 0, kLateralMin, Op::Min);
  pass(b, a, 1, kVerticalMin, Op::Min);
  for (int rep = 0; rep < 2; ++rep) {
    pass(a, b, 0, kSmooth, Op::Mean);
    pass(b, a, 1, kSmooth, Op::Mean);
  }
  // `slice_weight` fades the depth out at the superior and inferior limits
  // (to in front of the smoothed front beyond them).
  const auto axis = static_cast<std::size_t>(std::lround(reach / c));
  for (std::size_t k = 0; k < nz; ++k) {
    const double at_axis = a[k * bins + axis] - depth * std::min(1.0, slice_weight[k]);
    for (std::size_t q = 0; q < bins; ++q) a[k * bins + q] = std::isfinite(fronts[k * bins + q]) ? at_axis : nan;
  }
  return a;
}

// Moves the cut surface back by at least `need` mm per ray (0: not at all)
// while keeping it smooth: a maximum over +-2r then two box means over +-r lie
// at or above `need` everywhere (each cell of the means' window is within 2r
// of the centre), so the deepened surface is still smooth and never
// shallower than asked.
std::vector<double> deepenSmoothly(const std::vector<double>& cut, std::vector<double> need, std::size_t nz,
                                   std::size_t bins, double c, double r_mm) {
  std::vector<double> tmp(need.size());
  const auto pass = [&](const std::vector<double>& in, std::vector<double>& out, unsigned dim, double radius,
                        bool maximum) {
    const auto r = static_cast<std::ptrdiff_t>(std::lround(radius / c));
    const auto len = static_cast<std::ptrdiff_t>(dim == 0 ? bins : nz);
    for (std::size_t k = 0; k < nz; ++k)
      for (std::size_t q = 0; q < bins; ++q) {
        const auto p0 = static_cast<std::ptrdiff_t>(dim == 0 ? q : k);
        double acc = 0;
        for (std::ptrdiff_t p = std::max<std::ptrdiff_t>(0, p0 - r); p <= std::min(len - 1, p0 + r); ++p) {
          const double x = in[dim == 0 ? k * bins + static_cast<std::size_t>(p) : static_cast<std::size_t>(p) * bins + q];
          acc = maximum ? std::max(acc, x) : acc + x;
        }
        // Cells beyond the map's edge count as 0 in the mean, which only
        // lowers it where nothing is needed anyway (the map spans the head).
        out[k * bins + q] = maximum ? acc : acc / static_cast<double>(2 * r + 1);
      }
  };
  pass(need, tmp, 0, 2 * r_mm, true);
  pass(tmp, need, 1, 2 * r_mm, true);
  for (int rep = 0; rep < 2; ++rep) {
    pass(need, tmp, 0, r_mm, false);
    pass(tmp, need, 1, r_mm, false);
  }
  std::vector<double> out = cut;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] -= need[i];
  return out;
}

}  // namespace

FaceSegmentation GeometricSegmenter::segment(const Volume& v) {
  diag_ = {};
  FaceSegmentation out;
  // The native-size mask is made once, at the end (or empty on the early
  // returns): a zeroed copy held through the coarse work would add half the
  // series' pixel bytes to the peak memory.
  const double c = opt_.coarse_spacing_mm;

  Volume grid = paddedGrid(v, c);
  resampleInto(v, grid, kOutsideFov);
  const Grid g{grid.nx, grid.ny, grid.nz, c};
  const Vec3 origin = grid.slice_pos.front();
  const std::size_t n = g.size();

  Bits fov(n), tissue(n), bone(n);
  std::vector<float> hu = std::move(grid.hu);  // only the grid's geometry is needed from here on
  for (std::size_t i = 0; i < n; ++i) {
    fov[i] = hu[i] > kOutsideFov / 2;
    if (!fov[i]) hu[i] = -1000;  // the mean filter below must not see the sentinel
    tissue[i] = fov[i] && hu[i] > opt_.body_hu;
    bone[i] = fov[i] && hu[i] > opt_.bone_hu;
  }
  // Mean over the field of view only, so the slices at the caps keep their HU.
  std::vector<float> hu_in(n), in(n);
  for (std::size_t i = 0; i < n; ++i) hu_in[i] = fov[i] ? hu[i] : 0.0f, in[i] = fov[i] ? 1.0f : 0.0f;
  std::vector<float> smooth = coarse::boxMean(hu_in, g, 1);
  {
    const std::vector<float> frac = coarse::boxMean(in, g, 1);
    for (std::size_t i = 0; i < n; ++i) smooth[i] = frac[i] > 0 ? smooth[i] / frac[i] : -1000.0f;
  }
  release(hu, hu_in, in);

  // The cranial cavity first: without one there is no face to look for (and
  // a torso or a bare phantom is rejected before the body analysis).
  const Cavity cav = findCavity(smooth, fov, bone, g, origin, opt_);
  if (cav.mask.empty()) {
    out.mask = VoxelMask::like(v);
    out.face_in_view = false;
    out.note = "no face in view: " + cav.rejected;
    return out;
  }

  // The caps of the field of view: beyond the first or last slice plane (not
  // beside the image rectangle, not the lateral padding).
  Bits cap(n, 0);
  {
    const double span = dot(v.slice_pos.back() - v.slice_pos.front(), v.normal);
    for (std::size_t k = 0; k < g.nz; ++k)
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          const bool lateral_pad = i == 0 || j == 0 || i + 1 == g.nx || j + 1 == g.ny;
          const Vec3 p = origin + Vec3{c * static_cast<double>(i), c * static_cast<double>(j), c * static_cast<double>(k)};
          const double along = dot(p - v.slice_pos.front(), v.normal);
          cap[idx] = !fov[idx] && !lateral_pad && (along < 0 || along > span);
        }
  }

  // Body: the largest tissue component once thin attachments (couch, head
  // holder, streaks in the air) are opened away; thin parts of the body itself
  // (ears, nostril rims) are then given back from the unopened tissue.
  Bits body = coarse::largestComponent(coarse::open(tissue, g, 1), g);
  {
    const Bits near = coarse::dilate(body, g, 2);
    for (std::size_t i = 0; i < n; ++i) body[i] = near[i] && tissue[i];
    body = coarse::largestComponent(body, g);
  }
  // An oblique cap can cut a piece of the face off in view (a nose tip whose
  // base lies beyond the cap): small tissue pieces that touch a cap right next
  // to the body belong to it (the couch and head holder are large or farther).
  {
    Bits loose(n);
    for (std::size_t i = 0; i < n; ++i) loose[i] = tissue[i] && !body[i];
    const coarse::Components pieces = coarse::components(loose, g);
    const double max_piece_ml = 20;
    std::vector<std::uint8_t> near_body(pieces.sizes.size() + 1, 0), at_cap(pieces.sizes.size() + 1, 0);
    const std::size_t plane = g.nx * g.ny;
    bool any = false;
    for (std::size_t i = plane; i + plane < n; ++i) {
      const std::uint32_t l = pieces.label[i];
      if (l == 0 || at_cap[l] || pieces.sizes[l - 1] * c * c * c / 1000.0 >= max_piece_ml) continue;
      if (cap[i - 1] || cap[i + 1] || cap[i - g.nx] || cap[i + g.nx] || cap[i - plane] || cap[i + plane])
        at_cap[l] = 1, any = true;
    }
    if (any) {
      const Bits near = coarse::dilate(body, g, 2);
      for (std::size_t i = 0; i < n; ++i)
        if (pieces.label[i] && near[i]) near_body[pieces.label[i]] = 1;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t l = pieces.label[i];
        if (l && near_body[l] && at_cap[l]) body[i] = 1;
      }
    }
  }
  // Air inside the head (sinuses, nasal cavity, airway, mouth) is not skin
  // surface: a voxel is inside when it is enclosed in its axial, coronal or
  // sagittal slice (the nasal cavity opens through the nostrils only in
  // axial and sagittal slices, and would otherwise make the sella look like skin).
  // The caps are walls here: a slab that ends through the nose or mouth cuts
  // the nasal cavity open, and air reached only through a cap is still inside.
  Bits walled_body(n);
  for (std::size_t i = 0; i < n; ++i) walled_body[i] = body[i] || cap[i];
  Bits body_filled = coarse::fillHolesPerSlice(walled_body, g, 2);
  for (unsigned dim = 0; dim < 2; ++dim) {
    const Bits f = coarse::fillHolesPerSlice(walled_body, g, dim);
    for (std::size_t i = 0; i < n; ++i) body_filled[i] = body_filled[i] || f[i];
  }
  for (std::size_t i = 0; i < n; ++i) body_filled[i] = body_filled[i] && fov[i];

  diag_.cavity_found = true;
  diag_.cavity_ml = cav.ml;
  diag_.cavity_centroid = cav.centroid;
  diag_.anterior = cav.anterior;

  // Distance to the cavity (mm, positive outside) and skin-side depth (mm
  // inside the body; the field-of-view caps are not skin).
  const std::vector<float> dcav = coarse::signedDistance(cav.mask, g);
  Bits solid(n);
  for (std::size_t i = 0; i < n; ++i) solid[i] = body_filled[i] || !fov[i];
  std::vector<float> depth = coarse::signedDistance(solid, g);
  for (auto& d : depth) d = -d;

  // Apex of the face sector, per axial slice: the horizontal centroid of the
  // head's cross-section (robust to a cavity cut by the field of view, whose
  // centroid drifts back and down).
  std::vector<double> apex_x(g.nz, cav.centroid[0]), apex_y(g.nz, cav.centroid[1]);
  std::vector<std::uint8_t> complete(g.nz, 0);
  for (std::size_t k = 0; k < g.nz; ++k) {
    double sx = 0, sy = 0;
    std::size_t cnt = 0;
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        if (!body_filled[idx] || !fov[idx]) continue;
        sx += static_cast<double>(i), sy += static_cast<double>(j), ++cnt;
      }
    if (cnt * c * c < 2000) continue;  // < 20 cm^2: keep the cavity's centroid
    apex_x[k] = origin[0] + c * sx / static_cast<double>(cnt);
    apex_y[k] = origin[1] + c * sy / static_cast<double>(cnt);
    complete[k] = 1;
  }
  // A slice that an oblique (tilted) slab cuts shows only part of the head:
  // its centroid is biased, so it takes the apex of the nearest whole slice.
  for (std::size_t k = 0; k < g.nz; ++k) {
    if (!complete[k]) continue;
    for (std::size_t q = 0; q < g.nx * g.ny && complete[k]; ++q) {
      const std::size_t idx = k * g.nx * g.ny + q;
      const std::size_t i = q % g.nx, j = q / g.nx;
      if (i == 0 || j == 0 || i + 1 == g.nx || j + 1 == g.ny || !body_filled[idx]) continue;
      if (!fov[idx - 1] || !fov[idx + 1] || !fov[idx - g.nx] || !fov[idx + g.nx]) complete[k] = 0;
    }
  }
  {
    const std::vector<double> ax = apex_x, ay = apex_y;
    for (std::size_t k = 0; k < g.nz; ++k) {
      if (complete[k]) continue;
      std::size_t best = g.nz;
      for (std::size_t q = 0; q < g.nz; ++q)
        if (complete[q] && (best == g.nz || (q > k ? q - k : k - q) < (best > k ? best - k : k - best))) best = q;
      apex_x[k] = best < g.nz ? ax[best] : cav.centroid[0];
      apex_y[k] = best < g.nz ? ay[best] : cav.centroid[1];
    }
  }
  // The apex moves along a straight line through the head: a least-squares
  // fit of the whole slices' centroids from 60 mm below the cavity to its top
  // (a slice's own centroid jumps where the ears, the jaw or the neck enter
  // it, and every jump would shift that slice's rays and leave a step in the
  // cut; a line follows a rolled or pitched head without steps).
  {
    double cz_lo = std::numeric_limits<double>::infinity(), cz_hi = -cz_lo;
    for (std::size_t idx = 0; idx < n; ++idx)
      if (cav.mask[idx]) {
        const double z = c * static_cast<double>(idx / (g.nx * g.ny));
        cz_lo = std::min(cz_lo, z), cz_hi = std::max(cz_hi, z);
      }
    double sw = 0, sz = 0, szz = 0, sx = 0, sxz = 0, sy = 0, syz = 0;
    for (std::size_t k = 0; k < g.nz; ++k) {
      const double z = c * static_cast<double>(k);
      if (!complete[k] || z < cz_lo - 60 || z > cz_hi) continue;
      sw += 1, sz += z, szz += z * z, sx += apex_x[k], sxz += apex_x[k] * z, sy += apex_y[k], syz += apex_y[k] * z;
    }
    const double var = sw * szz - sz * sz;
    // Fewer than three whole slices there: the nearest whole slice's apex stays.
    if (sw >= 3 && var > 1e-9 * sw * sw)
      for (std::size_t k = 0; k < g.nz; ++k) {
        const double z = c * static_cast<double>(k);
        apex_x[k] = (sx * szz - sz * sxz) / var + (sw * sxz - sz * sx) / var * z;
        apex_y[k] = (sy * szz - sz * syz) / var + (sw * syz - sz * sy) / var * z;
      }
  }
  // Face sector: within the half-angle of the horizontal anterior axis A, seen
  // from the slice's apex (horizontal angles are what separate face from ears).
  Vec3 A = cav.anterior;
  const double cos_half = std::cos(opt_.face_half_angle_deg * kPi / 180);
  auto angleClass = [&](std::size_t i, std::size_t j, std::size_t k, double& cos_theta) {
    const double dx = origin[0] + c * i - apex_x[k], dy = origin[1] + c * j - apex_y[k];
    const double a = dx * A[0] + dy * A[1], l = -dx * A[1] + dy * A[0];
    const double r = std::sqrt(a * a + l * l);
    cos_theta = r > 1e-6 ? a / r : 0;
    return a;
  };
  // Refine A from the face itself: the skin far from the brain in front of the
  // head is left-right symmetric, so its mean offset from the apex points
  // straight ahead (corrects yaw, and the cavity's axis when it is cut).
  // Per slice, so that a rolled head (whose face shifts sideways with depth)
  // gives each slice's own midline; the slices' unit directions are averaged.
  for (int iter = 0; iter < 3; ++iter) {
    double ax = 0, ay = 0;
    const double cos_cone = std::cos(35 * kPi / 180);  // the central face: nose, mouth, eyes
    for (std::size_t k = 0; k < g.nz; ++k) {
      double mx = 0, my = 0;
      std::size_t cnt = 0;
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          if (!body_filled[idx] || !fov[idx] || depth[idx] > 4 || dcav[idx] < 25) continue;
          double ct;
          if (angleClass(i, j, k, ct) <= 0 || ct < cos_cone) continue;
          mx += origin[0] + c * i - apex_x[k];
          my += origin[1] + c * j - apex_y[k];
          ++cnt;
        }
      const double len = std::sqrt(mx * mx + my * my);
      if (cnt < 5 || len == 0) continue;
      ax += cnt * mx / len, ay += cnt * my / len;
    }
    const Vec3 next = normalized(Vec3{ax, ay, 0});
    // The header's anterior (-y) is trusted to within 50 degrees.
    if (ax == 0 && ay == 0) break;
    if (-next[1] < std::cos(50 * kPi / 180)) break;
    // A face cut unevenly by the field of view pulls the mean aside: move at
    // most 20 degrees away from the cavity's own axis.
    const double max_turn = 20 * kPi / 180;
    const double turn = std::atan2(cav.anterior[0] * next[1] - cav.anterior[1] * next[0], dot(cav.anterior, next));
    const double t = std::clamp(turn, -max_turn, max_turn);
    const Vec3 a0 = cav.anterior;
    A = {a0[0] * std::cos(t) - a0[1] * std::sin(t), a0[0] * std::sin(t) + a0[1] * std::cos(t), 0};
  }
  diag_.anterior = A;

  // Depth along the anterior axis: per axial slice and per ray parallel to A
  // (binned by the lateral offset), the skin is the first body voxel met
  // walking in from the front. Air reached through the nostrils, an open
  // mouth or a cap that cuts the nasal cavity is behind that skin, so deep
  // tissue next to it (the skull base) is not skin-side along the ray.
  std::vector<float> ray_depth(n, std::numeric_limits<float>::infinity());
  const double reach = c * static_cast<double>(g.nx + g.ny);
  const auto bins = static_cast<std::size_t>(2 * reach / c) + 2;
  std::vector<double> fronts;  // per slice and lateral ray: the skin's anterior position
  {
    fronts.assign(g.nz * bins, -std::numeric_limits<double>::infinity());
    auto rayCoords = [&](std::size_t i, std::size_t j, std::size_t k, double& a, std::size_t& b) {
      const double dx = origin[0] + c * i - apex_x[k], dy = origin[1] + c * j - apex_y[k];
      a = dx * A[0] + dy * A[1];
      b = static_cast<std::size_t>(std::lround((-dx * A[1] + dy * A[0] + reach) / c));
    };
    for (std::size_t k = 0; k < g.nz; ++k) {
      double* front = &fronts[k * bins];
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          if (!body_filled[idx] || !fov[idx]) continue;
          double a;
          std::size_t b;
          rayCoords(i, j, k, a, b);
          front[b] = std::max(front[b], a);
        }
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          if (!body_filled[idx] || !fov[idx]) continue;
          double a;
          std::size_t b;
          rayCoords(i, j, k, a, b);
          ray_depth[idx] = static_cast<float>(front[b] - a);
        }
    }
  }

  // Superior limit: 15 mm above the highest skin far (>= 25 mm) from the brain
  // in the central face (the brow); the scalp of the vault above stays, even
  // where a thin skull puts it just past face_brain_distance_mm.
  double z_high = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        if (!body_filled[idx] || !fov[idx] || depth[idx] > 4 || dcav[idx] < 25) continue;
        double ct;
        if (angleClass(i, j, k, ct) <= 0 || ct < std::cos(35 * kPi / 180)) continue;
        z_high = std::max(z_high, origin[2] + c * static_cast<double>(k) + 15.0);
      }

  // Inferior limit: the lowest facial bone (mandible, teeth, maxilla) far from the brain.
  Bits face_bone(n, 0);
  for (std::size_t k = 0; k < g.nz; ++k)
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        if (!bone[idx] || !body_filled[idx] || dcav[idx] < 35) continue;
        double ct;
        angleClass(i, j, k, ct);
        face_bone[idx] = ct >= cos_half;
      }
  double z_low = -std::numeric_limits<double>::infinity();
  {
    const coarse::Components comp = coarse::components(face_bone, g);
    const std::size_t min_voxels = static_cast<std::size_t>(2.0 / (c * c * c / 1000.0));
    std::size_t big = 0;
    while (big < comp.sizes.size() && comp.sizes[big] >= min_voxels) ++big;
    std::size_t kmin = g.nz;
    for (std::size_t idx = 0; idx < n; ++idx)
      if (comp.label[idx] >= 1 && comp.label[idx] <= big) kmin = std::min(kmin, idx / (g.nx * g.ny));
    if (kmin < g.nz) {
      z_low = origin[2] + c * static_cast<double>(kmin) - 12.0;
      diag_.lowest_face_bone_z = origin[2] + c * static_cast<double>(kmin);
    }
  }

  const auto sliceAt = [&](double z) {
    return static_cast<std::size_t>(std::clamp(std::floor((z - origin[2]) / c), 0.0, static_cast<double>(g.nz)));
  };
  const NoseProfile nose_profile =
      noseProfile(fronts, complete, g.nz, sliceAt(z_low), std::isfinite(z_high) ? sliceAt(z_high) + 1 : 0, bins, c, reach);
  constexpr double kNoseHalfWidth = 20;  // mm either side of the ridge: the nose's width at the cheeks
  diag_.nose_protrusion_mm = nose_profile.tip_protrusion;
  diag_.nose_slices = static_cast<int>(
      std::count_if(nose_profile.base.begin(), nose_profile.base.end(), [](double b) { return !std::isnan(b); }));

  // The cut's depth fades in over kFadeZ mm above the inferior limit and out
  // over kFadeZ mm below the superior one (to in front of the smoothed skin),
  // so that it meets the skin there instead of ending in a ledge.
  constexpr double kFadeZ = 20;
  std::vector<double> slice_weight(g.nz, 1.0);
  for (std::size_t k = 0; k < g.nz; ++k) {
    const double z = origin[2] + c * static_cast<double>(k);
    const double from_edge = std::min(z - z_low, z_high - z);
    slice_weight[k] = -1.0 + 2.0 * std::clamp(from_edge / kFadeZ, 0.0, 1.0);
  }
  std::vector<double> cut = smoothCutSurface(fronts, g.nz, bins, c, reach, opt_.face_cut_depth_mm, slice_weight);
  const auto inFaceBox = [&](std::size_t i, std::size_t j, std::size_t k, double& a, std::size_t& b) {
    const double z = origin[2] + c * static_cast<double>(k);
    double ct;
    a = angleClass(i, j, k, ct);
    const double l_off = -(origin[0] + c * i - apex_x[k]) * A[1] + (origin[1] + c * j - apex_y[k]) * A[0];
    b = static_cast<std::size_t>(std::lround((l_off + reach) / c));
    return ct >= cos_half && a > 0 && z >= z_low && z <= z_high;
  };
  // Air cavities the cut opens (nasal cavity, sinuses, mouth) would show in a
  // render as dark pits behind a smooth surface: eyes and a mouth to a face
  // detector. Where the cut opens one, it goes on behind the cavity's back
  // (within kCavityReach mm and never nearer the brain than the cut may),
  // widened and smoothed so that the cavity becomes part of a shallow basin.
  {
    constexpr double kCavityReach = 12, kSpread = 20;
    Bits air(n);
    for (std::size_t i = 0; i < n; ++i) air[i] = fov[i] && body_filled[i] && !body[i];
    const coarse::Components pockets = coarse::components(air, g);
    release(air);
    std::vector<std::uint8_t> opened(pockets.sizes.size() + 1, 0);
    std::vector<double> need(g.nz * bins, 0);
    for (int pass = 0; pass < 2; ++pass)
      for (std::size_t k = 0; k < g.nz; ++k)
        for (std::size_t j = 0; j < g.ny; ++j)
          for (std::size_t i = 0; i < g.nx; ++i) {
            const std::size_t idx = g.index(i, j, k);
            const std::uint32_t l = pockets.label[idx];
            if (l == 0 || (pass == 1 && !opened[l])) continue;
            double a;
            std::size_t b;
            if (!inFaceBox(i, j, k, a, b)) continue;
            const double cut_a = cut[k * bins + b];
            if (std::isnan(cut_a)) continue;
            if (pass == 0 && a >= cut_a) opened[l] = 1;
            if (pass == 1 && a < cut_a && cut_a - a <= kCavityReach && dcav[idx] >= opt_.cut_brain_distance_mm + c)
              need[k * bins + b] = std::max(need[k * bins + b], cut_a - a + c);
          }
    for (double& x : cut)
      if (std::isnan(x)) x = std::numeric_limits<double>::infinity();
    cut = deepenSmoothly(cut, std::move(need), g.nz, bins, c, kSpread);
  }
  // Where the cut reaches the protected zone about the brain it would stop
  // along that zone's front and carve under it (under the frontal lobes, an
  // overhang whose shadow reads as a brow). So per ray the cut stays in front
  // of the zone's most anterior point.
  {
    std::vector<double> front_of_zone(g.nz * bins, -std::numeric_limits<double>::infinity());
    for (std::size_t k = 0; k < g.nz; ++k)
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          if (dcav[idx] >= opt_.cut_brain_distance_mm) continue;
          double a;
          std::size_t b;
          inFaceBox(i, j, k, a, b);
          if (a > 0) front_of_zone[k * bins + b] = std::max(front_of_zone[k * bins + b], a);
        }
    // Nor may it drop straight down below the zone: under the frontal lobes
    // that left a flat cut a ledge as deep as the cut (its shadow a brow over
    // dark eyes in an oblique render: 3 of 8 unseen poses that still tripped
    // the detector). Per ray the limit falls back kZoneSlope mm per mm of
    // height away from the zone, so the cut rises to it along a slope. (At 1
    // mm/mm the tops of the globes stayed: up to 5 % of a pitched head's.)
    constexpr double kZoneSlope = 2;
    const double fall = kZoneSlope * c;
    for (std::size_t k = 1; k < g.nz; ++k)
      for (std::size_t q = 0; q < bins; ++q)
        front_of_zone[k * bins + q] = std::max(front_of_zone[k * bins + q], front_of_zone[(k - 1) * bins + q] - fall);
    for (std::size_t k = g.nz - 1; k-- > 0;)
      for (std::size_t q = 0; q < bins; ++q)
        front_of_zone[k * bins + q] = std::max(front_of_zone[k * bins + q], front_of_zone[(k + 1) * bins + q] - fall);
    for (std::size_t q = 0; q < cut.size(); ++q) cut[q] = std::max(cut[q], front_of_zone[q]);
    for (double& x : cut)
      if (std::isinf(x)) x = std::numeric_limits<double>::quiet_NaN();
  }

  // The flat cut reaches past the face sector: at the sector's edge it still
  // lies inside a round head's cheeks, and ending it there would leave a wall.
  // Out to kPlaneHalfAngleDeg it ends by itself where the skin curves back
  // behind it; the ears (about 90 degrees) stay out of its reach.
  constexpr double kPlaneHalfAngleDeg = 70;
  const double cos_plane = std::cos(kPlaneHalfAngleDeg * kPi / 180);
  // Face in view: soft-tissue skin far from the brain inside the sector (a
  // bare skull's facial surface is bone; a vault-only slab has only scalp).
  Bits mask(n, 0);
  std::size_t surface = 0, surface_soft = 0;
  const double ear_cos_lo = std::cos(150 * kPi / 180), ear_cos_hi = cos_half;  // from the face sector on
  constexpr double kFadeDeg = 15;
  const double cos_fade = std::cos((opt_.face_half_angle_deg - kFadeDeg) * kPi / 180);
  for (std::size_t k = 0; k < g.nz; ++k) {
    const double z = origin[2] + c * static_cast<double>(k);
    for (std::size_t j = 0; j < g.ny; ++j)
      for (std::size_t i = 0; i < g.nx; ++i) {
        const std::size_t idx = g.index(i, j, k);
        if (!body_filled[idx] || !fov[idx] || z < z_low) continue;
        double ct;
        const double a = angleClass(i, j, k, ct);
        const double l_off = -(origin[0] + c * i - apex_x[k]) * A[1] + (origin[1] + c * j - apex_y[k]) * A[0];
        const bool in_sector = ct >= cos_half && a > 0;
        // The skin-side depth fades out over the sector's last kFadeDeg
        // degrees (cheeks, far from every feature): a full-depth edge is a wall.
        const double fade =
            ct >= cos_fade ? 1.0
                           : std::clamp((opt_.face_half_angle_deg - std::acos(std::clamp(ct, -1.0, 1.0)) * 180 / kPi) / kFadeDeg,
                                        0.0, 1.0);
        // The same over the last 8 mm above the inferior limit (under the chin).
        const double fade_low = std::isfinite(z_low) ? std::clamp((z - z_low) / 8.0, 0.0, 1.0) : 1.0;
        const double skin_depth = opt_.face_depth_mm * std::min(fade, fade_low);
        const bool skin_side = depth[idx] <= skin_depth && ray_depth[idx] <= skin_depth;
        const double cut_a = cut[k * bins + static_cast<std::size_t>(std::lround((l_off + reach) / c))];
        const bool in_front = !std::isnan(cut_a) && a >= cut_a;
        bool nose = false;
        if (!std::isnan(nose_profile.base[k])) {
          const double dx = origin[0] + c * i - apex_x[k], dy = origin[1] + c * j - apex_y[k];
          nose = std::abs(-dx * A[1] + dy * A[0] - nose_profile.lateral[k]) <= kNoseHalfWidth &&
                 a >= nose_profile.base[k] - opt_.face_depth_mm;
        }
        // The smooth cut goes closer to the cavity than the skin-side rule (the
        // orbits lie just below the frontal lobes); the skin-side rule keeps
        // face_brain_distance_mm (the forehead scalp above the brow).
        const bool in_plane_sector = ct >= cos_plane && a > 0;
        if (z <= z_high && ((in_sector && (skin_side || nose) && dcav[idx] >= opt_.face_brain_distance_mm) ||
                            (in_plane_sector && in_front && dcav[idx] >= opt_.cut_brain_distance_mm)))
          mask[idx] = 1;
        if (in_sector && depth[idx] <= 4 && dcav[idx] >= 20) {
          ++surface;
          surface_soft += smooth[idx] > -250 && smooth[idx] < 250;
        }
        if (opt_.remove_ears && ct > ear_cos_lo && ct <= ear_cos_hi && depth[idx] <= opt_.ear_depth_mm &&
            dcav[idx] >= std::max(opt_.brain_margin_mm, 10.0) && z - cav.centroid[2] > -90 &&
            z - cav.centroid[2] < 15)
          mask[idx] = 1;
      }
  }
  const double voxel_ml = c * c * c / 1000.0;
  diag_.face_surface_ml = static_cast<double>(surface_soft) * voxel_ml;
  if (diag_.face_surface_ml < 3.0 || static_cast<double>(surface_soft) < 0.4 * static_cast<double>(surface)) {
    out.mask = VoxelMask::like(v);
    out.face_in_view = false;
    out.note = "no face in view: no soft-tissue face surface in front of the cranial cavity";
    return out;
  }

  // Pieces of the face that the cut leaves standing on their own (cut off
  // from the head by the mask) go too: a render would show them as blocks.
  {
    Bits rest(n);
    for (std::size_t i = 0; i < n; ++i) rest[i] = body[i] && fov[i] && !mask[i];
    const coarse::Components pieces = coarse::components(rest, g);
    release(rest);
    const double cos_front = std::cos(60 * kPi / 180);
    for (std::size_t k = 0; k < g.nz; ++k)
      for (std::size_t j = 0; j < g.ny; ++j)
        for (std::size_t i = 0; i < g.nx; ++i) {
          const std::size_t idx = g.index(i, j, k);
          if (pieces.label[idx] <= 1 || dcav[idx] < opt_.cut_brain_distance_mm) continue;
          double ct;
          if (angleClass(i, j, k, ct) > 0 && ct >= cos_front) mask[idx] = 1;
        }
  }

  // Partial-volume skin: grow into the air around the face. Two voxels: a
  // thin edge (a nose tip cut by an oblique cap) can be tissue on the native
  // grid where the coarse sample already reads air.
  {
    const Bits grown = coarse::dilate(mask, g, 2);
    // Unsampled voxels with sampled ones above and below are a gap inside the
    // slab (not a cap): growing into them would reach deep into the head.
    const std::size_t plane = g.nx * g.ny;
    auto gapInSlab = [&](std::size_t i) { return i >= plane && i + plane < n && fov[i - plane] && fov[i + plane]; };
    for (std::size_t i = 0; i < n; ++i)
      if (grown[i] && (fov[i] ? !body_filled[i] : !gapInSlab(i))) mask[i] = 1;
  }

  // Only the distance to the cavity is needed from here on: free the rest of
  // the coarse work before the native mask is made (peak memory).
  release(smooth, depth, ray_depth);
  release(fov, tissue, bone, cap, body, walled_body, body_filled, solid, face_bone);
  // Once glibc has freed one block this large its mmap threshold rises, and
  // later ones live in its heap, whose free pages it keeps: give them back.
  ::malloc_trim(0);
  // Smoothly, not voxel by voxel: the cut surface would be a staircase of coarse voxels.
  out.mask = smoothMaskToNative(mask, g, origin, v);
  release(mask);

  // Final guard, independent of the carving above: nothing within the margin
  // of the cranial cavity leaves this function masked.
  // A grid cell whose eight corners all lie clearly beyond the margin holds
  // no native voxel the trilinear distance could bring within it (a convex
  // combination): those voxels skip the interpolation (the face is mostly
  // such cells; same result as sampling every voxel).
  const coarse::CellLevels far = coarse::classifyCells(dcav, g, static_cast<float>(opt_.brain_margin_mm) + 1e-3f);
  const auto inFarCell = [&](const Vec3& p) {
    const double fx = (p[0] - origin[0]) / c, fy = (p[1] - origin[1]) / c, fz = (p[2] - origin[2]) / c;
    if (fx < 0 || fy < 0 || fz < 0 || fx > g.nx - 1.0 || fy > g.ny - 1.0 || fz > g.nz - 1.0) return false;
    return far.at(fx, fy, fz) == 1;
  };
  std::vector<std::size_t> kept_in(v.nz, 0);
  forEachSlice(v.nz, v.nx * v.ny, [&](std::size_t k) {
    for (std::size_t j = 0; j < v.ny; ++j) {
      std::uint8_t* row = &out.mask.data[(k * v.ny + j) * v.nx];
      for (std::size_t i = 0; i < v.nx; ++i) {
        if (!row[i]) continue;
        const Vec3 p = v.world(static_cast<double>(i), static_cast<double>(j), k);
        if (!inFarCell(p) && sampleField(dcav, g, origin, p, 0.0f) < opt_.brain_margin_mm)
          row[i] = 0;
        else
          ++kept_in[k];
      }
    }
  });
  std::size_t kept = 0;
  for (std::size_t c : kept_in) kept += c;
  // The slices at the caps of the field of view can hold slivers of brain too
  // thin for the coarse grid: there, also clear what lies inside the slice's
  // own closed bone ring.
  // Only caps that cut the brain's level: a cap through the mouth can hold
  // rings of metal streaks around the lips.
  double cz_lo = std::numeric_limits<double>::infinity(), cz_hi = -cz_lo;
  for (std::size_t idx = 0; idx < n; ++idx)
    if (cav.mask[idx]) {
      const double z = origin[2] + c * static_cast<double>(idx / (g.nx * g.ny));
      cz_lo = std::min(cz_lo, z), cz_hi = std::max(cz_hi, z);
    }
  // Every slice at the brain's level, not only those at the caps: the smooth
  // cut reaches deep, and a slab's oblique edge can hold brain that the coarse
  // cavity does not (this guard needs no cavity).
  std::vector<std::size_t> cleared_in(v.nz, 0);
  forEachSlice(v.nz, v.nx * v.ny, [&](std::size_t k) {
    double zl = std::numeric_limits<double>::infinity(), zh = -zl;
    for (double a : {0.0, v.nx - 1.0})
      for (double b : {0.0, v.ny - 1.0}) {
        const double z = v.world(a, b, k)[2];
        zl = std::min(zl, z), zh = std::max(zh, z);
      }
    if (zh < cz_lo - 10 || zl > cz_hi + 10) return;
    const auto near_brain = [&](std::size_t q) {
      const Vec3 p = v.world(static_cast<double>(q % v.nx), static_cast<double>(q / v.nx), k);
      return sampleField(dcav, g, origin, p, 1e9f) < opt_.brain_margin_mm;
    };
    cleared_in[k] = clearInsideBoneRing(v, k, opt_.bone_hu, out.mask, k < 3 || k + 3 >= v.nz, near_brain);
  });
  for (std::size_t cl : cleared_in) kept -= cl;
  std::ostringstream note;
  note << "geometric: cranial cavity " << static_cast<int>(cav.ml) << " ml, " << kept << " face voxels";
  out.note = note.str();
  return out;
}

}  // namespace ctd
