// Named hard cases for the geometric segmenter: ears, thick tilted slices,
// open mouth with metal, child, prone; bare skull, torso (synthetic and real),
// Philips skull phantom, real GE head (landmarks annotated by hand), and a
// DICOM round trip of a tilted phantom.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "FaceRules.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"
#include "synth/SyntheticSeries.h"
#include "volume/NiftiIO.h"

namespace ctd {
namespace {

using phantom::PhantomCase;
using phantom::PhantomSpec;

const std::filesystem::path kData = CTD_SHARED_DATA;

std::size_t cavityMasked(const PhantomCase& pc, const VoxelMask& m) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < m.data.size(); ++i) n += m.data[i] && pc.labels.data[i] == phantom::CranialCavity;
  return n;
}

void expectLandmarksRemoved(const PhantomCase& pc, const FaceSegmentation& r, const std::vector<std::string>& names) {
  auto tissue = [&](std::size_t idx) { return phantom::isBody(pc.labels.data[idx]); };
  for (const auto& name : names) {
    const Vec3 p = *pc.landmark(name);
    ASSERT_TRUE(testing::inFieldOfView(pc.ct, p)) << name;
    const auto c = testing::countNear(pc.ct, r.mask, p, 5.0, tissue);
    EXPECT_GT(c.tissue, 10u) << name;
    EXPECT_EQ(c.unmasked, 0u) << name << " " << pc.spec.describe();
  }
}

const std::vector<std::string> kFace = {"nose_tip", "nasion", "eyelid_left", "eyelid_right",
                                        "upper_lip", "lower_lip", "chin"};

PhantomSpec base() {
  PhantomSpec s;
  s.pixel_spacing_mm = 0.9;
  s.matrix = 280;
  s.slice_step_mm = 2.0;
  return s;
}

// One pose per test (ctest runs them in parallel processes).
void checkEars(double yaw) {
  {
    PhantomSpec s = base();
    s.yaw_deg = yaw;
    s.roll_deg = yaw / 2;
    const PhantomCase pc = phantom::makePhantom(s);
    auto tissue = [&](std::size_t idx) { return phantom::isBody(pc.labels.data[idx]); };
    GeometricOptions with;
    with.remove_ears = true;
    const auto kept = GeometricSegmenter().segment(pc.ct);
    const auto removed = GeometricSegmenter(with).segment(pc.ct);
    for (const char* ear : {"tragus_left", "tragus_right"}) {
      const Vec3 p = *pc.landmark(ear);
      EXPECT_EQ(testing::countNear(pc.ct, kept.mask, p, 5.0, tissue).masked_any, 0u) << ear << " yaw " << yaw;
      EXPECT_EQ(testing::countNear(pc.ct, removed.mask, p, 5.0, tissue).unmasked, 0u) << ear << " yaw " << yaw;
    }
    expectLandmarksRemoved(pc, removed, kFace);
    EXPECT_EQ(cavityMasked(pc, removed.mask), 0u);
    EXPECT_EQ(cavityMasked(pc, kept.mask), 0u);
  }
}

TEST(GeometricCases, EarsRemovedOnlyWhenAskedYawMinus20) { checkEars(-20.0); }
TEST(GeometricCases, EarsRemovedOnlyWhenAskedYaw0) { checkEars(0.0); }
TEST(GeometricCases, EarsRemovedOnlyWhenAskedYaw15) { checkEars(15.0); }

void checkHardCase(const PhantomSpec& spec) {
  const PhantomCase pc = phantom::makePhantom(spec);
  const auto r = GeometricSegmenter().segment(pc.ct);
  EXPECT_TRUE(r.face_in_view) << spec.describe() << " " << r.note;
  expectLandmarksRemoved(pc, r, kFace);
  EXPECT_EQ(cavityMasked(pc, r.mask), 0u) << spec.describe();
}

TEST(GeometricCases, ThickTiltedSlices) {
  PhantomSpec s = base();
  s.slice_step_mm = 5.0, s.gantry_tilt_deg = 20;  // 5 mm, tilted
  checkHardCase(s);
}

TEST(GeometricCases, OpenMouthWithDentalMetal) {
  PhantomSpec s = base();
  s.open_mouth = true, s.dental_metal = true, s.noise_hu = 25;
  checkHardCase(s);
}

TEST(GeometricCases, ChildPitched) {
  PhantomSpec s = base();
  s.scale = 0.75, s.matrix = 230, s.pitch_deg = 15;
  checkHardCase(s);
}

TEST(GeometricCases, ProneCouchAtTheFace) {
  PhantomSpec s = base();
  s.prone = true, s.yaw_deg = -18, s.pitch_deg = -12;
  checkHardCase(s);
}

TEST(GeometricCases, ThinSlicesFineMatrixTilted) {
  PhantomSpec s = base();
  s.slice_step_mm = 0.6, s.pixel_spacing_mm = 0.5, s.matrix = 500, s.gantry_tilt_deg = -15;
  checkHardCase(s);
}

TEST(GeometricCases, BareSkullHasNoFace) {
  PhantomSpec s = base();
  s.soft_tissue = false;
  const auto r = GeometricSegmenter().segment(phantom::makePhantom(s).ct);
  EXPECT_FALSE(r.face_in_view) << r.note;
  EXPECT_EQ(r.mask.count(), 0u);
}

// A chest: body ellipse, lungs, ribs (a broken bone ring), spine with its canal.
Volume syntheticTorso() {
  Volume v;
  v.nx = v.ny = 256, v.nz = 60;
  v.col_spacing = v.row_spacing = 1.5;
  for (std::size_t k = 0; k < v.nz; ++k) v.slice_pos.push_back({-191.25, -191.25, -300.0 + 5.0 * k});
  v.hu.assign(v.voxelCount(), -1000);
  for (std::size_t k = 0; k < v.nz; ++k)
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const Vec3 p = v.world(i, j, k);
        const double x = p[0], y = p[1];
        const double body = (x / 160) * (x / 160) + (y / 110) * (y / 110);
        if (body > 1) continue;
        float hu = 40;
        const double rib = (x / 145) * (x / 145) + (y / 97) * (y / 97);
        const double ang = std::atan2(y, x) * 180 / 3.14159265;
        if (rib > 0.85 && rib < 1 && static_cast<int>(std::floor((ang + 180) / 12)) % 2 == 0) hu = 900;
        if (((std::abs(x) - 60) / 45) * ((std::abs(x) - 60) / 45) + (y / 70) * (y / 70) < 1) hu = -820;
        const double sp = x * x + (y - 70) * (y - 70);
        if (sp < 20 * 20) hu = sp < 8 * 8 ? 30 : 700;
        v.at(i, j, k) = hu;
      }
  return v;
}

TEST(GeometricCases, SyntheticTorsoHasNoFace) {
  const auto r = GeometricSegmenter().segment(syntheticTorso());
  EXPECT_FALSE(r.face_in_view) << r.note;
  EXPECT_EQ(r.mask.count(), 0u);
}

TEST(GeometricCases, RealTorsoHasNoFace) {
  const Volume v = readNifti(kData / "ct-no-head" / "totalseg_example_ct_abdomen.nii.gz");
  const auto r = GeometricSegmenter().segment(v);
  EXPECT_FALSE(r.face_in_view) << r.note;
  EXPECT_EQ(r.mask.count(), 0u);
}

Volume loadFirstCt(const std::filesystem::path& dir, std::size_t min_slices) {
  const Discovery d = discoverCases(dir);
  for (const auto& c : d.cases) {
    const CaseInventory inv = assembleCase(c);
    for (const auto& st : inv.stacks)
      if (st.slices.size() >= min_slices) return loadVolume(inv, st);
  }
  throw std::runtime_error("no CT stack in " + dir.string());
}

TEST(GeometricCases, PhilipsSkullPhantomHasNoFace) {
  const Volume v = loadFirstCt(kData / "ct-phantom-philips-multiseries", 20);
  const auto r = GeometricSegmenter().segment(v);
  EXPECT_FALSE(r.face_in_view) << r.note;
  EXPECT_EQ(r.mask.count(), 0u);
}

// Test-side skull check, independent of the segmenter: in every native slice,
// pixels not reachable from the border without crossing bone (> 300 HU) are
// enclosed; in the largest enclosed region (the skull's), brain-like ones
// (0..80 HU) must be unchanged.
std::size_t maskedInsideSkull(const Volume& v, const VoxelMask& m, std::string* where = nullptr) {
  std::size_t bad = 0;
  const std::size_t w = v.nx, h = v.ny;
  for (std::size_t k = 0; k < v.nz; ++k) {
    std::vector<char> out(w * h, 0);
    std::vector<std::size_t> st;
    auto push = [&](std::size_t q) {
      if (!out[q] && v.hu[k * w * h + q] <= 300) out[q] = 1, st.push_back(q);
    };
    for (std::size_t i = 0; i < w; ++i) push(i), push((h - 1) * w + i);
    for (std::size_t j = 0; j < h; ++j) push(j * w), push(j * w + w - 1);
    while (!st.empty()) {
      const std::size_t q = st.back();
      st.pop_back();
      if (q % w > 0) push(q - 1);
      if (q % w + 1 < w) push(q + 1);
      if (q >= w) push(q - w);
      if (q + w < w * h) push(q + w);
    }
    // The largest enclosed region of the slice is the cranial cavity (smaller
    // ones are the nose, orbits and sinuses framed by facial bones).
    std::vector<int> region(w * h, 0);
    std::vector<std::size_t> sizes{0};
    for (std::size_t q0 = 0; q0 < w * h; ++q0) {
      if (out[q0] || region[q0] || v.hu[k * w * h + q0] > 300) continue;
      const int id = static_cast<int>(sizes.size());
      std::size_t size = 0;
      region[q0] = id, st.push_back(q0);
      while (!st.empty()) {
        const std::size_t q = st.back();
        st.pop_back();
        ++size;
        for (std::size_t nq : {q % w > 0 ? q - 1 : q, q % w + 1 < w ? q + 1 : q, q >= w ? q - w : q,
                               q + w < w * h ? q + w : q})
          if (!out[nq] && !region[nq] && v.hu[k * w * h + nq] <= 300) region[nq] = id, st.push_back(nq);
      }
      sizes.push_back(size);
    }
    const int largest = static_cast<int>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    if (largest == 0 || sizes[largest] * v.col_spacing * v.row_spacing < 1000) continue;  // < 10 cm^2: no brain ring
    const std::size_t before = bad;
    for (std::size_t q = 0; q < w * h; ++q) {
      const float hu = v.hu[k * w * h + q];
      bad += region[q] == largest && hu >= 0 && hu <= 80 && m.data[k * w * h + q];
    }
    if (where && bad > before)
      *where += " slice " + std::to_string(k) + ": " + std::to_string(bad - before) + " of a " +
                std::to_string(sizes[largest]) + "-pixel region;";
  }
  return bad;
}

TEST(GeometricCases, RealGeHeadFaceRemovedSkullUntouched) {
  const Volume v = loadFirstCt(kData / "ct-head-ge-tilt", 20);
  const auto r = GeometricSegmenter().segment(v);
  ASSERT_TRUE(r.face_in_view) << r.note;
  std::ifstream f(std::filesystem::path(CTD_SOURCE_DIR) / "tests" / "fixtures" / "ge-head-landmarks.json");
  ASSERT_TRUE(f.good());
  const auto js = nlohmann::json::parse(f);
  auto tissue = [&](std::size_t idx) { return v.hu[idx] > -400; };
  int checked = 0;
  for (const auto& [name, entry] : js.at("landmarks").items()) {
    const Vec3 p{entry.at("lps")[0].get<double>(), entry.at("lps")[1].get<double>(), entry.at("lps")[2].get<double>()};
    const auto c = testing::countNear(v, r.mask, p, 5.0, tissue);
    EXPECT_GT(c.tissue, 5u) << name << " is not on the skin";
    if (name.rfind("ear", 0) == 0) {  // kept without remove_ears
      EXPECT_EQ(c.masked_any, 0u) << name;
    } else {
      EXPECT_EQ(c.unmasked, 0u) << name << " (" << c.tissue << " tissue voxels within 5 mm)";
    }
    ++checked;
  }
  EXPECT_GE(checked, 4);
  std::string where;
  EXPECT_EQ(maskedInsideSkull(v, r.mask, &where), 0u) << where;
}

// The nose's bony and cartilaginous base must go with it: a carve that stops
// 20 mm behind the nose's tip leaves the nasal bones, septum and the walls of
// the nasal cavity standing as a ridge in front of the carved cheeks, and a
// 3D render still shows a nose. Landmarks: "nose_ridge" in the fixture.
TEST(GeometricCases, RealGeHeadNoseRidgeCarvedToTheCheeks) {
  const Volume v = loadFirstCt(kData / "ct-head-ge-tilt", 20);
  const auto r = GeometricSegmenter().segment(v);
  ASSERT_TRUE(r.face_in_view) << r.note;
  std::ifstream f(std::filesystem::path(CTD_SOURCE_DIR) / "tests" / "fixtures" / "ge-head-landmarks.json");
  ASSERT_TRUE(f.good());
  const auto js = nlohmann::json::parse(f);
  auto lps = [](const nlohmann::json& e) {
    return Vec3{e.at("lps")[0].get<double>(), e.at("lps")[1].get<double>(), e.at("lps")[2].get<double>()};
  };
  const auto& ridge = js.at("nose_ridge");
  const Vec3 nasion = lps(ridge.at("nasion")), rhinion = lps(ridge.at("rhinion"));
  const Vec3 ears = 0.5 * (lps(js.at("landmarks").at("ear_left")) + lps(js.at("landmarks").at("ear_right")));
  const Vec3 ant = normalized(Vec3{nasion[0] - ears[0], nasion[1] - ears[1], 0});
  const Vec3 lat{-ant[1], ant[0], 0};
  // The ridge line from the nasion down to the rhinion, as a lateral offset at height z.
  auto ridgeLateral = [&](double z) {
    const double t = (z - nasion[2]) / (rhinion[2] - nasion[2]);
    return dot(nasion, lat) + t * (dot(rhinion, lat) - dot(nasion, lat));
  };
  for (const char* name : {"nasal_dorsum_bone", "rhinion"}) {
    const Vec3 p = lps(ridge.at(name));
    const auto c = testing::countNear(v, r.mask, p, 2.0, [&](std::size_t idx) { return v.hu[idx] > 300; });
    EXPECT_GT(c.tissue, 0u) << name << " is not on bone";
    EXPECT_EQ(c.unmasked, 0u) << name;
  }
  // No bone in front of the nasion within 12 mm of the ridge, below the nasion.
  std::size_t bone = 0, bone_left = 0;
  // Per slice below the nasion: what is left within 10 mm of the ridge stands
  // at most this far in front of what is left of the cheeks 22-40 mm beside it.
  constexpr double kMaxRidgeMm = 7;
  int ridge_slices = 0;
  for (std::size_t k = 0; k < v.nz; ++k) {
    double centre = -1e9, side[2] = {-1e9, -1e9};
    for (std::size_t j = 0; j < v.ny; ++j)
      for (std::size_t i = 0; i < v.nx; ++i) {
        const Vec3 p = v.world(static_cast<double>(i), static_cast<double>(j), k);
        if (p[2] > nasion[2]) continue;
        const std::size_t idx = v.index(i, j, k);
        const double a = dot(p, ant), off = dot(p, lat) - ridgeLateral(p[2]);
        if (std::abs(off) <= 12 && a > dot(nasion, ant) && v.hu[idx] > 300) {
          ++bone;
          bone_left += r.mask.data[idx] == 0;
        }
        if (v.hu[idx] <= -400 || r.mask.data[idx]) continue;
        if (std::abs(off) <= 10) centre = std::max(centre, a);
        if (std::abs(off) >= 22 && std::abs(off) <= 40) side[off > 0] = std::max(side[off > 0], a);
      }
    if (centre < -1e8 || side[0] < -1e8 || side[1] < -1e8) continue;
    ++ridge_slices;
    EXPECT_LE(centre - std::max(side[0], side[1]), kMaxRidgeMm) << "slice " << k;
  }
  EXPECT_GT(bone, 500u);  // the nasal bones are in the region: the check is not empty
  EXPECT_EQ(bone_left, 0u) << "of " << bone << " bone voxels in front of the nasion";
  EXPECT_GE(ridge_slices, 5);
}

TEST(GeometricCases, TiltedPhantomThroughDicomGivesTheSameRemoval) {
  PhantomSpec s = base();
  s.gantry_tilt_deg = 18.5;
  s.slice_step_mm = 4;
  s.yaw_deg = 10;
  const PhantomCase pc = phantom::makePhantom(s);
  const auto dir = std::filesystem::path(CTD_BINARY_DIR) / "test-segment-dicom-roundtrip";
  std::filesystem::remove_all(dir);
  synth::SeriesSpec spec;
  spec.volume = pc.ct;
  synth::writeSeries(spec, dir);
  const Volume v = loadFirstCt(dir, 10);
  ASSERT_EQ(v.nz, pc.ct.nz);
  const auto r = GeometricSegmenter().segment(v);
  ASSERT_TRUE(r.face_in_view) << r.note;
  PhantomCase loaded = pc;
  loaded.ct = v;  // labels stay valid: same grid, same slice order
  expectLandmarksRemoved(loaded, r, kFace);
  EXPECT_EQ(cavityMasked(loaded, r.mask), 0u);
  std::filesystem::remove_all(dir);
}

// The face goes down to a smooth cut, not only its skin: a carve that follows
// the face 20 mm deep leaves the backs of the globes in their sockets and the
// nasal aperture, and a render of that bare facial skeleton still reads as a
// face. Every voxel of the external nose and (but for the top edge next to the
// brain) of both globes is masked, on a straight head and a pitched, yawed one.
void expectGlobesAndNoseGone(const PhantomSpec& s) {
  const PhantomCase pc = phantom::makePhantom(s);
  const auto r = GeometricSegmenter().segment(pc.ct);
  ASSERT_TRUE(r.face_in_view) << r.note;
  const Vec3 tip = *pc.landmark("nose_tip");
  const auto voxelAt = [](const Volume& v, std::size_t i) {
    return v.world(static_cast<double>(i % v.nx), static_cast<double>((i / v.nx) % v.ny), i / (v.nx * v.ny));
  };
  std::size_t globe = 0, globe_left = 0, nose = 0, nose_left = 0;
  for (std::size_t i = 0; i < r.mask.data.size(); ++i) {
    const auto l = pc.labels.data[i];
    if (l == phantom::Globe) ++globe, globe_left += !r.mask.data[i];
    // The Nose label also runs along the cheeks: the external nose is what
    // lies within 30 mm of its tip.
    if (l == phantom::Nose && norm(voxelAt(pc.ct, i) - tip) <= 30) ++nose, nose_left += !r.mask.data[i];
  }
  EXPECT_GT(globe, 1000u) << s.describe();
  EXPECT_GT(nose, 1000u) << s.describe();
  // The cut stops cut_brain_distance_mm from the cavity, which the top of a
  // globe can come within: at most 1% of it stays, never its front.
  EXPECT_LE(globe_left * 100, globe) << "of " << globe << " globe voxels " << s.describe();
  EXPECT_EQ(nose_left, 0u) << "of " << nose << " nose voxels " << s.describe();
  EXPECT_EQ(cavityMasked(pc, r.mask), 0u) << s.describe();
}

TEST(GeometricCases, WholeGlobesAndNoseGoStraight) { expectGlobesAndNoseGone(base()); }

TEST(GeometricCases, WholeGlobesAndNoseGoPitchedYawed) {
  PhantomSpec s = base();
  s.pitch_deg = 15;
  s.yaw_deg = -12;
  expectGlobesAndNoseGone(s);
}

// Acceptance pose 14 of the QC suite (yaw 21, open mouth, 3 mm steps): the
// pose whose globe backs were left as two eyes by an earlier cut.
TEST(GeometricCases, WholeGlobesAndNoseGoYawed21OpenMouth) {
  PhantomSpec s = PhantomSpec::random(14);
  s.fov = phantom::PhantomFov::FullHead;
  if (s.pixel_spacing_mm < 1.0) s.pixel_spacing_mm = 1.0, s.matrix = s.scale < 1 ? 200 : 250;
  if (s.slice_step_mm < 1.25) s.slice_step_mm = 1.25;
  expectGlobesAndNoseGone(s);
}

}  // namespace
}  // namespace ctd
