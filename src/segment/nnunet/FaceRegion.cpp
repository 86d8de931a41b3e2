#include "segment/nnunet/FaceRegion.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "segment/GeometricSegmenter.h"

namespace ctd::nnunet {

namespace {

// Bounding box (half-open, [k][j][i]) of the voxels where `inside(index)` holds; empty box if none.
template <class Pred>
Box3 boundingBox(std::size_t nx, std::size_t ny, std::size_t nz, Pred inside) {
  Box3 b{{static_cast<std::int64_t>(nz), static_cast<std::int64_t>(ny), static_cast<std::int64_t>(nx)}, {0, 0, 0}};
  std::size_t idx = 0;
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i, ++idx)
        if (inside(idx)) {
          const Shape3 p{static_cast<std::int64_t>(k), static_cast<std::int64_t>(j), static_cast<std::int64_t>(i)};
          for (int a = 0; a < 3; ++a) {
            b.begin[a] = std::min(b.begin[a], p[a]);
            b.end[a] = std::max(b.end[a], p[a] + 1);
          }
        }
  return b;
}

bool empty(const Box3& b) { return b.end[0] <= b.begin[0] || b.end[1] <= b.begin[1] || b.end[2] <= b.begin[2]; }

}  // namespace

FaceRegion findFaceRegion(const Volume& v, double margin_mm) {
  FaceRegion r;
  GeometricSegmenter geometric;
  const FaceSegmentation face = geometric.segment(v);
  const Box3 face_box = boundingBox(v.nx, v.ny, v.nz, [&](std::size_t i) { return face.mask.data[i] != 0; });
  if (empty(face_box)) {
    r.note = "no face found by the geometric segmenter (" + face.note + ")";
    return r;
  }
  // Tissue, not air (the geometric segmenter's threshold): keeps a stray mask far out in the air
  // from widening the region.
  const float body_hu = static_cast<float>(GeometricOptions{}.body_hu);
  const Box3 body = boundingBox(v.nx, v.ny, v.nz, [&](std::size_t i) { return v.hu[i] > body_hu; });
  const double gap = v.nz > 1 ? std::abs(dot(v.slice_pos.back() - v.slice_pos.front(), v.normal)) /
                                    static_cast<double>(v.nz - 1)
                              : 1.0;
  const std::array<double, 3> spacing{gap > 0 ? gap : 1.0, v.row_spacing, v.col_spacing};
  const Shape3 n{static_cast<std::int64_t>(v.nz), static_cast<std::int64_t>(v.ny), static_cast<std::int64_t>(v.nx)};
  for (int a = 0; a < 3; ++a) {
    const auto m = static_cast<std::int64_t>(std::ceil(margin_mm / spacing[static_cast<std::size_t>(a)]));
    // The body's box widened alike: the geometric mask reaches into the air in front of the skin.
    r.box.begin[a] = std::max({face_box.begin[a] - m, body.begin[a] - m, std::int64_t{0}});
    r.box.end[a] = std::min({face_box.end[a] + m, body.end[a] + m, n[a]});
  }
  r.found = !empty(r.box);
  std::ostringstream note;
  note << "face region " << r.box.size()[0] << "x" << r.box.size()[1] << "x" << r.box.size()[2] << " voxels at ["
       << r.box.begin[0] << "," << r.box.begin[1] << "," << r.box.begin[2] << "] (geometric face mask + "
       << margin_mm << " mm)";
  r.note = note.str();
  return r;
}

}  // namespace ctd::nnunet
