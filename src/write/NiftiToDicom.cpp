#include "write/NiftiToDicom.h"

#include <array>
#include <cmath>
#include <optional>

#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "volume/NiftiIO.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

// World (LPS) -> continuous voxel index of a Volume whose slices are evenly
// stepped (what readNifti returns); the step may be sheared.
class WorldToIndex {
 public:
  explicit WorldToIndex(const Volume& v) : v_(v) {
    const Vec3 step = v.nz > 1 ? (1.0 / static_cast<double>(v.nz - 1)) * (v.slice_pos.back() - v.slice_pos.front())
                               : v.normal;
    const Vec3 a = v.col_spacing * v.row_dir, b = v.row_spacing * v.col_dir;
    // Inverse of the 3x3 [a b step] by cofactors.
    const Vec3 bc = cross(b, step), ca = cross(step, a), ab = cross(a, b);
    const double det = dot(a, bc);
    if (std::abs(det) < 1e-12) throw Error("NIfTI geometry is degenerate");
    inv_rows_ = {(1.0 / det) * bc, (1.0 / det) * ca, (1.0 / det) * ab};
  }
  // Nearest voxel, or nothing when outside the volume.
  std::optional<std::array<std::size_t, 3>> nearest(const Vec3& p) const {
    const Vec3 d = p - v_.slice_pos.front();
    std::array<std::size_t, 3> idx{};
    const std::size_t n[3] = {v_.nx, v_.ny, v_.nz};
    for (int c = 0; c < 3; ++c) {
      const double x = std::round(dot(inv_rows_[c], d));
      if (!(x >= 0) || x > static_cast<double>(n[c] - 1)) return std::nullopt;
      idx[c] = static_cast<std::size_t>(x);
    }
    return idx;
  }

 private:
  const Volume& v_;
  std::array<Vec3, 3> inv_rows_{};
};

// World position of native voxel (i, j) of the stack's slice k, from that file's own geometry.
struct SliceGeometry {
  Vec3 origin, step_i, step_j;
};

SliceGeometry sliceGeometry(const CaseInventory& inv, const SliceRef& s) {
  const DicomInstance& inst = inv.instances.at(s.instance);
  if (s.frame >= inst.frames.size()) throw Error(inst.path, "no geometry for frame " + std::to_string(s.frame + 1));
  const FrameInfo& f = inst.frames[s.frame];
  if (!f.position || !f.orientation || !f.pixel_spacing)
    throw Error(inst.path, "no ImagePositionPatient / ImageOrientationPatient / PixelSpacing");
  const auto& o = *f.orientation;
  const Vec3 x{o[0], o[1], o[2]}, y{o[3], o[4], o[5]};
  return {*f.position, (*f.pixel_spacing)[1] * x, (*f.pixel_spacing)[0] * y};
}

std::string sliceName(const CaseInventory& inv, const SliceRef& s) {
  const DicomInstance& inst = inv.instances.at(s.instance);
  std::string name = inst.relative.empty() ? inst.path.filename().string() : inst.relative.string();
  if (inst.number_of_frames > 1) name += " frame " + std::to_string(s.frame + 1);
  return name;
}

}  // namespace

RewriteResult volumeToDicom(const CaseInventory& inv, const SeriesStack& stack, const Volume& values,
                            const RewriteOptions& opt, bool strict, const fs::path& values_file) {
  if (values.voxelCount() == 0 || values.slice_pos.size() != values.nz || values.hu.size() != values.voxelCount())
    throw Error(values_file, "empty or inconsistent volume");
  const WorldToIndex to_index(values);

  std::vector<SliceGeometry> geometry;
  std::vector<std::string> not_covered;
  for (const SliceRef& s : stack.slices) {
    geometry.push_back(sliceGeometry(inv, s));
    const DicomInstance& inst = inv.instances.at(s.instance);
    const SliceGeometry& g = geometry.back();
    bool covered = false;
    for (std::size_t j = 0; j < inst.rows && !covered; ++j)
      for (std::size_t i = 0; i < inst.columns && !covered; ++i)
        covered = to_index.nearest(g.origin + static_cast<double>(i) * g.step_i + static_cast<double>(j) * g.step_j)
                      .has_value();
    if (!covered) not_covered.push_back(sliceName(inv, s));
  }
  if (strict && !not_covered.empty()) {
    std::string list;
    for (std::size_t n = 0; n < not_covered.size() && n < 5; ++n) list += (n ? ", " : "") + not_covered[n];
    if (not_covered.size() > 5) list += ", ...";
    throw Error(values_file, "does not cover " + std::to_string(not_covered.size()) + " slice(s) of " + stack.name +
                                 " (" + list + "); nothing written (--strict)");
  }

  const HuRowSource from_values = [&](std::size_t j, std::size_t k, float* row) {
    const SliceGeometry& g = geometry[k];
    const std::size_t nx = inv.instances.at(stack.slices[k].instance).columns;
    const Vec3 row_start = g.origin + static_cast<double>(j) * g.step_j;
    for (std::size_t i = 0; i < nx; ++i) {
      const auto idx = to_index.nearest(row_start + static_cast<double>(i) * g.step_i);
      if (idx) row[i] = values.at((*idx)[0], (*idx)[1], (*idx)[2]);
    }
  };
  RewriteResult result = rewriteSeriesFrom(inv, stack, from_values, opt);
  result.not_covered = std::move(not_covered);
  return result;
}

RewriteResult niftiToDicom(const NiftiToDicomOptions& opt) {
  const Discovery found = discoverCases(opt.ref);
  if (found.cases.size() != 1)
    throw Error(opt.ref, "holds " + std::to_string(found.cases.size()) +
                             " cases; give one case folder or one series folder as reference");
  const CaseInventory inv = assembleCase(found.cases.front());
  if (inv.stacks.empty()) throw Error(opt.ref, "holds no CT image stack");
  if (inv.stacks.size() > 1) {
    std::string names;
    for (const auto& s : inv.stacks) names += (names.empty() ? "" : ", ") + s.name;
    throw Error(opt.ref, "holds " + std::to_string(inv.stacks.size()) + " CT stacks (" + names +
                             "); give the folder of one series");
  }
  const Volume values = readNifti(opt.nifti);
  RewriteOptions ro;
  ro.out_root = opt.out_dir;
  ro.new_uids = opt.new_uids;
  ro.mark_defaced = opt.mark_defaced;
  ro.derivation_description = "ctdeface nifti2dicom: voxel values replaced from " + opt.nifti.filename().string();
  return volumeToDicom(inv, inv.stacks.front(), values, ro, opt.strict, opt.nifti);
}

}  // namespace ctd
