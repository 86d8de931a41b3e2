#include "phantom/PhantomGenerator.h"

#include "phantom/FaceSurface.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <thread>

namespace ctd::phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;
double rad(double deg) { return deg * kPi / 180.0; }
double sq(double v) { return v * v; }

// Value of an axis-aligned ellipsoid's implicit function (<= 1 inside).
double ell(double x, double y, double z, double cx, double cy, double cz, double rx, double ry, double rz) {
  return sq((x - cx) / rx) + sq((y - cy) / ry) + sq((z - cz) / rz);
}
double cube(double v) { return std::abs(v * v * v); }
// Superquadric of exponent 3: boxier than an ellipsoid (no std::pow: this runs per voxel).
double sq3(double x, double y, double z, double cx, double cy, double cz, double rx, double ry, double rz) {
  return cube((x - cx) / rx) + cube((y - cy) / ry) + cube((z - cz) / rz);
}

// Geometry of the adult head (head frame, mm). Numbers chosen so that the
// proportions (head length ~190, width ~155, vertex to chin ~200) and the
// distances that matter for defacing (eyelid / nasion to the brain > 18 mm,
// tragus about level with the brain's centre) are those of a real head.
constexpr double kCavC[3] = {0, 8, 28}, kCavR[3] = {65, 82, 58};
constexpr double kTmj[3] = {0, 2, -12};  // jaw hinge axis (parallel to x)
constexpr double kMouthOpenDeg = 15;
constexpr double kGlobeX = 32, kGlobeY = -72, kGlobeZ = 2, kGlobeR = 12;
constexpr double kNoseFaceY = -89, kNasionZ = 6, kNoseTipZ = -28, kNoseBaseZ = -36;

const FaceSurface& faceSurface() {
  static const FaceSurface surface(
      FaceSurfaceShape{kGlobeX, kGlobeY, kGlobeZ, kGlobeR, kNasionZ, kNoseTipZ, kNoseBaseZ});
  return surface;
}

// The cavity floor rises from the middle fossa (z = -30) to the orbit roofs (z = 20).
double cavityFloor(double y) {
  if (y >= -10) return -30;
  if (y <= -35) return 20;
  return -30 + 50 * (-10 - y) / 25;
}

// Open mouth: a point of the lower jaw as evaluated in the closed-mouth frame.
void toJawFrame(double& y, double& z, bool open) {
  if (!open) return;
  const double a = -rad(kMouthOpenDeg);
  const double dy = y - kTmj[1], dz = z - kTmj[2];
  y = kTmj[1] + dy * std::cos(a) - dz * std::sin(a);
  z = kTmj[2] + dy * std::sin(a) + dz * std::cos(a);
}
Vec3 fromJawFrame(Vec3 q, bool open) {
  if (!open) return q;
  const double a = rad(kMouthOpenDeg);
  const double dy = q[1] - kTmj[1], dz = q[2] - kTmj[2];
  return {q[0], kTmj[1] + dy * std::cos(a) - dz * std::sin(a), kTmj[2] + dy * std::sin(a) + dz * std::cos(a)};
}

struct Tissue {
  Label label;
  float hu;
};

Tissue classify(const Vec3& h, bool open, bool soft) {
  const double x = h[0], y = h[1], z = h[2];
  const double ax = std::abs(x);
  if (z > 102 || z < -260 || ax > 90 || y < -125 || y > 110) return {Air, -1000};
  // Conservative union of all shapes: scalp, face/jaw box, neck box, ear box.
  if (ell(x, y, z, kCavC[0], kCavC[1], kCavC[2], kCavR[0] + 16, kCavR[1] + 16, kCavR[2] + 16) > 1 &&
      !(ax < 66 && y < 32 && z > -112 && z < 40) && !(z < -38 && ax < 56 && y > -45 && y < 70) &&
      !(ax > 58 && ax < 84 && y > -8 && y < 30 && z > -33 && z < 25))
    return {Air, -1000};

  // Lower-jaw frame coordinates (mandible, lower teeth, lower lip, chin).
  double jy = y, jz = z;
  const bool jaw_zone = z < 0 && y < 15;
  if (jaw_zone) toJawFrame(jy, jz, open);

  // Air pockets open to the outside.
  if (z > kNoseBaseZ - 3 && z < kNoseBaseZ + 9 && ell(ax, y, z, 7, kNoseFaceY - 7, kNoseBaseZ + 3, 3.5, 5, 4.5) <= 1)
    return {Air, -1000};
  if (ax > 70 && ell(ax, y, z, 77, 12, -8, 2.5, 7, 9) <= 1) return {Air, -1000};
  if (open && z < -38 && z > -72 && ell(x, y, z, 0, -72, -58, 24, 22, 10) <= 1 &&
      ell(x, y, z, 0, -90, -44, 24, 7, 6) > 1)
    return {Air, -1000};

  // Globes and the cranial cavity.
  const double dg = std::sqrt(sq(ax - kGlobeX) + sq(y - kGlobeY) + sq(z - kGlobeZ));
  if (dg <= kGlobeR) return soft ? Tissue{Globe, 15} : Tissue{Air, -1000};
  if (z >= cavityFloor(y) && ell(x, y, z, kCavC[0], kCavC[1], kCavC[2], kCavR[0], kCavR[1], kCavR[2]) <= 1) {
    if (!soft) return {CranialCavity, -1000};
    const bool ventricle = ell(ax, y, z, 9, 12, 34, 5, 20, 10) <= 1;
    return {CranialCavity, ventricle ? 8.0f : 32.0f};
  }

  // Teeth: upper arch in the head frame, lower arch in the jaw frame.
  if (z > -49 && z < -39 && y < -45) {
    const double rho = std::sqrt(sq(x / 26) + sq((y + 52) / 28));
    if (std::abs(rho - 1) <= 0.14) return {Teeth, 2200};
  }
  if (jaw_zone && jz > -57 && jz < -47 && jy < -45) {
    const double rho = std::sqrt(sq(x / 25) + sq((jy + 52) / 27));
    if (std::abs(rho - 1) <= 0.14) return {Teeth, 2200};
  }

  // Internal air: nasal cavity, maxillary sinuses, airway.
  const float internal_air = soft ? -950.0f : -1000.0f;
  const Label air_label = soft ? InternalAir : Air;
  if (z > -40 && z < 12 && sq3(x, y, z, 0, -62, -14, 10, 24, 22) <= 1) return {air_label, internal_air};
  if (z > -35 && z < -5 && ell(ax, y, z, 24, -55, -20, 11, 13, 13) <= 1) return {air_label, internal_air};
  if (z < -30 && sq(x) + sq(y + 5) <= 49) return {air_label, internal_air};

  // Spine with its canal.
  if (z < -38) {
    const double r2 = sq(x) + sq(y - 32);
    if (r2 <= 25) return soft ? Tissue{Neck, 30} : Tissue{Air, -1000};
    if (r2 <= 144) return {Spine, 600};
  }

  // In front of the face's skin (FaceSurface): air. Above the mouth line in
  // the head frame, below it in the lower jaw's (which opens with the mouth).
  const bool face_zone = soft && ax < FaceSurface::kMaxX && y < -20 && z > FaceSurface::kMinZ && z < FaceSurface::kMaxZ;
  const bool lower_face = face_zone && (jaw_zone ? jz : z) < -50 && z < -46;
  if (face_zone) {
    if (open && lower_face && jz > -50 && ax < 24) return {Air, -1000};  // the open mouth
    const bool front = lower_face ? jy < -faceSurface().lower(x, jz) : y < -faceSurface().upper(x, z);
    // The scalp over the forehead and temples carries on where the face turns back.
    if (front && ell(x, y, z, kCavC[0], kCavC[1], kCavC[2], kCavR[0] + 13, kCavR[1] + 13, kCavR[2] + 13) > 1)
      return {Air, -1000};
  }

  // Orbit fat (carved out of the facial skeleton).
  if (y < -50 && std::sqrt(sq(ax - kGlobeX) + sq(y + 70) + sq(z - kGlobeZ)) <= 16)
    return soft ? Tissue{SoftTissue, -90} : Tissue{Air, -1000};

  // Bones: vault (cavity + 7 mm), brow ridge, maxilla block, mandible.
  if (z >= cavityFloor(y) - 7 &&
      ell(x, y, z, kCavC[0], kCavC[1], kCavC[2], kCavR[0] + 7, kCavR[1] + 7, kCavR[2] + 7) <= 1)
    return {Skull, 1100};
  if (z > 10 && z < 26 && ell(x, y, z, 0, -79, 18, 46, 7, 7) <= 1) return {Skull, 1100};
  if (z > -53 && z < 9 && y < -10 && sq3(x, y, z, 0, -48, -22, 44, 36, 30) <= 1) return {Skull, 1100};
  if (jaw_zone) {
    if (jz > -81 && jz < -56 && jy < -6) {
      const double rho = std::sqrt(sq(x / 44) + sq((jy + 36) / 46));
      if (std::abs(rho - 1) <= 0.11) return {Mandible, 1100};
    }
    if (ax > 40 && ax < 48 && jy > -12 && jy < 6 && jz > -75 && jz < -14) return {Mandible, 1100};
    if (ell(x, jy, jz, 0, -85, -72, 12, 5, 8) <= 1) return {Mandible, 1100};
  }
  if (!soft) return {Air, -1000};

  // The line between the closed lips.
  if (!open && z > -51 && z < -49 && ax < 22 && y < -87) return {Air, -1000};
  // The face in front of the skeleton: nose, lips and chin by where they lie,
  // the rest soft tissue down to the skull.
  if (face_zone) {
    if (!lower_face && z >= kNoseBaseZ && z <= kNasionZ && y < -faceSurface().withoutNose(x, z))
      return {Nose, 40};
    if (!lower_face && z > -52 && z < -38 && ax < 24 && y < -86) return {Lips, 60};
    if (lower_face && jz > -62 && ax < 23 && jy < -84) return {Lips, 60};
    if (lower_face && jz <= -62 && jz > -86 && ax < 20 && jy < -84) return {Chin, 45};
    if (ell(x, std::max(y, -80.0), z, 0, -80, 18, 54, 13, 11) <= 1 ||
        sq3(x, std::max(y, -30.0), z, 0, -30, -28, 62, 60, 50) <= 1 ||
        (jaw_zone && jz > -86 && sq3(x, std::max(jy, -36.0), jz, 0, -36, -66, 54, 54, 18) <= 1))
      return {SoftTissue, 40};
  }

  // Ears: pinna and tragus.
  if (ax > 60) {
    if (ell(ax, y, z, 74, 14, -4, 6, 13, 26) <= 1) return {Ear, 50};
    if (ell(ax, y, z, 71, 2, -8, 5, 4, 5) <= 1) return {Ear, 50};
  }

  // Soft tissue envelopes outside the face: jaw, scalp, neck.
  if (jaw_zone && jz > -86 && sq3(x, jy, jz, 0, -36, -66, 54, 54, 18) <= 1) return {SoftTissue, 40};
  if (ell(x, y, z, kCavC[0], kCavC[1], kCavC[2], kCavR[0] + 13, kCavR[1] + 13, kCavR[2] + 13) <= 1)
    return {SoftTissue, 40};
  if (z < -40 && sq(x / 50) + sq((y - 15) / 48) <= 1) return {Neck, 40};
  return {Air, -1000};
}

// 3x3 rotation, row-major: R = Rz(yaw) * Rx(pitch) * Ry(roll).
struct Rot {
  double m[9];
  Vec3 apply(const Vec3& v) const {
    return {m[0] * v[0] + m[1] * v[1] + m[2] * v[2], m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
            m[6] * v[0] + m[7] * v[1] + m[8] * v[2]};
  }
  Vec3 applyT(const Vec3& v) const {
    return {m[0] * v[0] + m[3] * v[1] + m[6] * v[2], m[1] * v[0] + m[4] * v[1] + m[7] * v[2],
            m[2] * v[0] + m[5] * v[1] + m[8] * v[2]};
  }
};
Rot mul(const Rot& a, const Rot& b) {
  Rot r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r.m[i * 3 + j] += a.m[i * 3 + k] * b.m[k * 3 + j];
  return r;
}
Rot headRotation(const PhantomSpec& s) {
  const double y = rad(s.yaw_deg), p = rad(s.pitch_deg), r = rad(s.roll_deg);
  const Rot rz{{std::cos(y), -std::sin(y), 0, std::sin(y), std::cos(y), 0, 0, 0, 1}};
  const Rot rx{{1, 0, 0, 0, std::cos(p), -std::sin(p), 0, std::sin(p), std::cos(p)}};
  const Rot ry{{std::cos(r), 0, std::sin(r), 0, 1, 0, -std::sin(r), 0, std::cos(r)}};
  return mul(mul(rz, rx), ry);
}

// First body point met walking from `from` towards `to` (0.05 mm steps).
Vec3 firstBody(const Vec3& from, const Vec3& to, bool open, bool soft) {
  const Vec3 d = to - from;
  const int n = static_cast<int>(norm(d) / 0.05);
  for (int s = 0; s <= n; ++s) {
    const Vec3 p = from + (static_cast<double>(s) / n) * d;
    if (isBody(classify(p, open, soft).label)) return p;
  }
  return to;
}

// Small fast RNG for per-voxel noise (std::normal_distribution over ~10^7
// voxels would dominate the generation time).
struct XorShift {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Irwin-Hall with 4 terms scaled to unit variance: close enough to Gaussian for CT noise.
  double gauss() { return (uniform() + uniform() + uniform() + uniform() - 2.0) * 1.7320508075688772; }
};

void addMetalStreaks(PhantomCase& pc, std::mt19937& rng) {
  Volume& v = pc.ct;
  const double sp = v.col_spacing;
  std::uniform_real_distribution<double> angle(0, kPi), amp(400, 900);
  for (std::size_t k = 0; k < v.nz; ++k) {
    double si = 0, sj = 0;
    std::size_t n = 0;
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i)
        if (pc.labels.at(i, j, k) == Teeth) {
          v.at(i, j, k) = 3071;  // metal fillings / crowns saturate the scale
          si += i, sj += j, ++n;
        }
    if (n == 0) continue;
    const double ci = si / n, cj = sj / n;
    const int lines = 7;
    std::vector<double> ca(lines), sa(lines), am(lines);
    for (int l = 0; l < lines; ++l) {
      const double a = angle(rng);
      ca[l] = std::cos(a), sa[l] = std::sin(a);
      am[l] = (l % 2 ? -1 : 1) * amp(rng) * std::min(1.0, n / 300.0 + 0.3);
    }
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        if (pc.labels.at(i, j, k) == Teeth) continue;
        const double di = (i - ci) * sp, dj = (j - cj) * sp;
        const double r = std::sqrt(di * di + dj * dj);
        double add = 0;
        for (int l = 0; l < lines; ++l) {
          const double perp = di * sa[l] - dj * ca[l];
          add += am[l] * std::exp(-sq(perp / 1.5)) * std::exp(-r / 120.0);
        }
        float& hu = v.at(i, j, k);
        hu = static_cast<float>(std::clamp(hu + add, -1024.0, 3071.0));
      }
  }
}

}  // namespace

const char* toString(PhantomFov f) {
  switch (f) {
    case PhantomFov::FullHead: return "full-head";
    case PhantomFov::FaceCutTop: return "face-cut-top";
    case PhantomFov::FaceCutBottom: return "face-cut-bottom";
    case PhantomFov::FaceOutside: return "face-outside";
    case PhantomFov::NeckOnly: return "neck-only";
  }
  return "?";
}

Label headLabel(const Vec3& h, bool open_mouth, bool soft_tissue) {
  return classify(h, open_mouth, soft_tissue).label;
}

std::optional<Vec3> PhantomCase::landmark(const std::string& name) const {
  for (const auto& l : landmarks)
    if (l.name == name) return l.lps;
  return std::nullopt;
}

PhantomSpec PhantomSpec::random(unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  auto range = [&](double a, double b) { return a + (b - a) * u(rng); };
  PhantomSpec s;
  s.seed = seed;
  s.yaw_deg = range(-25, 25);
  s.pitch_deg = range(-25, 25);
  s.roll_deg = range(-25, 25);
  s.translation = {range(-15, 15), range(-15, 15), range(-20, 20)};
  s.prone = u(rng) < 0.25;
  const double f = u(rng);
  s.fov = f < 0.45   ? PhantomFov::FullHead
          : f < 0.6  ? PhantomFov::FaceCutTop
          : f < 0.75 ? PhantomFov::FaceCutBottom
          : f < 0.88 ? PhantomFov::FaceOutside
                     : PhantomFov::NeckOnly;
  s.slice_step_mm = range(0.6, 5.0);
  s.pixel_spacing_mm = range(0.5, 1.0);
  s.gantry_tilt_deg = u(rng) < 0.3 ? range(-25, 25) : 0;
  s.noise_hu = range(3, 30);
  s.dental_metal = u(rng) < 0.3;
  s.open_mouth = u(rng) < 0.3;
  s.scale = u(rng) < 0.2 ? 0.75 : 1.0;
  // Field of view ~250 mm (adult) or ~200 mm (child) whatever the spacing.
  s.matrix = static_cast<std::size_t>(std::ceil((s.scale < 1 ? 200.0 : 250.0) / s.pixel_spacing_mm));
  return s;
}

std::string PhantomSpec::describe() const {
  std::ostringstream o;
  o << "seed " << seed << " yaw " << yaw_deg << " pitch " << pitch_deg << " roll " << roll_deg << " t ("
    << translation[0] << "," << translation[1] << "," << translation[2] << ")" << (prone ? " prone" : " supine")
    << " fov " << toString(fov) << " step " << slice_step_mm << " px " << pixel_spacing_mm << " matrix " << matrix
    << " tilt " << gantry_tilt_deg << " noise " << noise_hu << (dental_metal ? " metal" : "")
    << (open_mouth ? " open-mouth" : "") << " scale " << scale << (soft_tissue ? "" : " bare-skull");
  return o.str();
}

namespace {

PhantomCase buildPhantom(const PhantomSpec& spec, bool voxels) {
  PhantomCase pc;
  pc.spec = spec;
  const Rot R = headRotation(spec);
  const double s = spec.scale;
  const bool open = spec.open_mouth, soft = spec.soft_tissue;
  auto pose = [&](const Vec3& h) { return spec.translation + R.apply(s * h); };

  // Landmarks on the (adult, unposed) surface, then posed.
  struct Named {
    const char* name;
    Vec3 h;
  };
  const Vec3 lower_lip = fromJawFrame({0, -88, -56}, open), chin = fromJawFrame({0, -90, -72}, open);
  const std::vector<Named> marks = {
      {"nose_tip", firstBody({0, -125, kNoseTipZ}, {0, 0, kNoseTipZ}, open, true)},
      {"nasion", firstBody({0, -125, kNasionZ}, {0, 0, kNasionZ}, open, true)},
      {"eyelid_left", firstBody({kGlobeX, -125, kGlobeZ + 5}, {kGlobeX, 0, kGlobeZ + 5}, open, true)},
      {"eyelid_right", firstBody({-kGlobeX, -125, kGlobeZ + 5}, {-kGlobeX, 0, kGlobeZ + 5}, open, true)},
      {"upper_lip", firstBody({0, -125, -44}, {0, 0, -44}, open, true)},
      {"lower_lip", firstBody({0, -125, lower_lip[2]}, {0, 0, lower_lip[2]}, open, true)},
      {"chin", firstBody({0, -125, chin[2]}, {0, 0, chin[2]}, open, true)},
      {"tragus_left", firstBody({89, 2, -8}, {0, 2, -8}, open, true)},
      {"tragus_right", firstBody({-89, 2, -8}, {0, 2, -8}, open, true)},
  };
  for (const auto& m : marks) pc.landmarks.push_back({m.name, pose(m.h)});

  // Slab along the scanner axis (LPS z) from the field-of-view kind.
  // Slab limits are positions along the slice normal (tilted with the gantry),
  // so that "outside the slab" holds for tilted stacks too.
  const double t = rad(spec.gantry_tilt_deg);
  const Vec3 nrm{0, std::sin(t), std::cos(t)};
  auto along = [&](const Vec3& p) { return dot(nrm, p); };
  auto zOf = [&](const Vec3& h) { return along(pose(h)); };
  const Vec3 nh = R.applyT(nrm);
  auto zExtentOfEllipsoid = [&](const double c[3], const double r[3]) {
    // Half-extent along the normal of a posed axis-aligned ellipsoid.
    const double e = std::sqrt(sq(r[0] * nh[0]) + sq(r[1] * nh[1]) + sq(r[2] * nh[2])) * s;
    return std::pair<double, double>{zOf({c[0], c[1], c[2]}) - e, zOf({c[0], c[1], c[2]}) + e};
  };
  const double scalp_r[3] = {kCavR[0] + 13, kCavR[1] + 13, kCavR[2] + 13};
  const auto [scalp_lo, scalp_hi] = zExtentOfEllipsoid(kCavC, scalp_r);
  (void)scalp_lo;
  std::vector<double> face_z, low_z;
  for (const auto& l : pc.landmarks)
    if (l.name.rfind("tragus", 0) != 0) face_z.push_back(along(l.lps));
  for (const Vec3& h : {Vec3{0, -93, 30}, Vec3{54, -80, 18}, Vec3{-54, -80, 18}, Vec3{40, -84, 6},
                        Vec3{-40, -84, 6}})
    face_z.push_back(zOf(h));  // brow and upper lid corners: nothing of the face above these
  for (const Vec3& q : {Vec3{0, -90, -84}, Vec3{46, 0, -80}, Vec3{-46, 0, -80}, Vec3{50, -40, -84},
                        Vec3{-50, -40, -84}})
    low_z.push_back(zOf(fromJawFrame(q, open)));
  for (const Vec3& h : {Vec3{74, 14, -30}, Vec3{-74, 14, -30}, Vec3{40, -64, -42}, Vec3{-40, -64, -42}})
    low_z.push_back(zOf(h));
  const double face_top = *std::max_element(face_z.begin(), face_z.end());
  const double face_bottom = *std::min_element(low_z.begin(), low_z.end());
  const double nose_z = along(pc.landmark("nose_tip").value()), nasion_z = along(pc.landmark("nasion").value());
  (void)nose_z;
  const double chin_z = along(pc.landmark("chin").value());
  std::mt19937 rng(spec.seed * 2654435761u + 7);
  std::uniform_real_distribution<double> u(0, 1);
  double z_lo = face_bottom - 20 * s, z_hi = scalp_hi + 4;
  switch (spec.fov) {
    case PhantomFov::FullHead: break;
    case PhantomFov::FaceCutTop: {
      // Cut between the eyes and the top of the brow: the eyes stay in view,
      // and with them the lower part of the cranial cavity.
      const double eyes = std::max({nasion_z, along(pc.landmark("eyelid_left").value()),
                                    along(pc.landmark("eyelid_right").value())}) + 6 * s;
      z_hi = eyes + u(rng) * std::max(0.0, face_top - eyes);
      z_lo = face_bottom - 40 * s;
      break;
    }
    case PhantomFov::FaceCutBottom:
      z_lo = std::min(chin_z, nose_z) + 8 * s + u(rng) * std::max(0.0, std::abs(nose_z - chin_z) - 8 * s);
      break;
    case PhantomFov::FaceOutside: z_lo = face_top + 12 * s; break;
    case PhantomFov::NeckOnly:
      z_hi = face_bottom - 10 * s;
      z_lo = z_hi - 90 * s;
      break;
  }

  // Native grid: axial (optionally tilted) slices centred on the scanner axis.
  Volume& v = pc.ct;
  const double sp = spec.pixel_spacing_mm;
  const std::size_t n = spec.matrix;
  v.nx = v.ny = n;
  v.nz = static_cast<std::size_t>(std::floor((z_hi - z_lo) / (spec.slice_step_mm * std::cos(t)))) + 1;
  v.col_spacing = v.row_spacing = sp;
  v.row_dir = spec.prone ? Vec3{-1, 0, 0} : Vec3{1, 0, 0};
  v.col_dir = spec.prone ? Vec3{0, -std::cos(t), std::sin(t)} : Vec3{0, std::cos(t), -std::sin(t)};
  v.normal = cross(v.row_dir, v.col_dir);
  const double half = (static_cast<double>(n) - 1) / 2 * sp;
  for (std::size_t k = 0; k < v.nz; ++k) {
    const Vec3 centre{0, 0, z_lo / std::cos(t) + k * spec.slice_step_mm};
    v.slice_pos.push_back(centre - half * v.row_dir - half * v.col_dir);
  }
  if (!voxels) return pc;
  v.hu.assign(v.voxelCount(), -1000.0f);
  pc.labels = VoxelMask::like(v);

  // Couch plate: behind the head (supine) or in front of the face (prone).
  double plate_lo, plate_hi;
  if (!spec.prone) {
    const double e = std::sqrt(sq(scalp_r[0] * R.m[3]) + sq(scalp_r[1] * R.m[4]) + sq(scalp_r[2] * R.m[5])) * s;
    plate_lo = pose({kCavC[0], kCavC[1], kCavC[2]})[1] + e + 3;
    plate_hi = plate_lo + 8;
  } else {
    double front = 1e9;
    for (const auto& l : pc.landmarks) front = std::min(front, l.lps[1]);
    plate_hi = front - 12;
    plate_lo = plate_hi - 8;
  }

  const Vec3 step_i = (1.0 / s) * R.applyT(sp * v.row_dir);
  auto work = [&](std::size_t k0, std::size_t k1) {
    XorShift noise{0x9E3779B97F4A7C15ull ^ (spec.seed * 1000003ull + k0 + 1)};
    for (std::size_t k = k0; k < k1; ++k)
      for (std::size_t j = 0; j < n; ++j) {
        const Vec3 p0 = v.world(0, static_cast<double>(j), k);
        Vec3 h = (1.0 / s) * R.applyT(p0 - spec.translation);
        Vec3 p = p0;
        const Vec3 dp = sp * v.row_dir;
        for (std::size_t i = 0; i < n; ++i, h = h + step_i, p = p + dp) {
          Tissue tis = classify(h, open, soft);
          if (tis.label == Air && spec.table && p[1] >= plate_lo && p[1] <= plate_hi) tis = {Table, 150};
          const std::size_t idx = v.index(i, j, k);
          pc.labels.data[idx] = tis.label;
          v.hu[idx] = static_cast<float>(tis.hu + spec.noise_hu * noise.gauss());
        }
      }
  };
  const std::size_t threads = std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < threads; ++w)
    pool.emplace_back(work, v.nz * w / threads, v.nz * (w + 1) / threads);
  for (auto& th : pool) th.join();

  if (spec.dental_metal && soft) addMetalStreaks(pc, rng);
  return pc;
}

}  // namespace

PhantomCase makePhantom(const PhantomSpec& spec) { return buildPhantom(spec, true); }

PhantomCase makePhantomLayout(const PhantomSpec& spec) { return buildPhantom(spec, false); }

}  // namespace ctd::phantom
