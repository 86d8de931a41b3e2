#include "segment/nnunet/NnunetSegmenter.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <cctype>
#include <sstream>

#include "core/Error.h"
#include "volume/GridResampler.h"
#include "volume/StackGeometry.h"

namespace ctd::nnunet {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The slice spacing SimpleITK reports for an evenly spaced stack: first to last along the normal.
double sliceSpacing(const Volume& v) {
  if (v.nz < 2) return 1.0;
  return dot(v.slice_pos.back() - v.slice_pos.front(), v.normal) / static_cast<double>(v.nz - 1);
}

}  // namespace

int findFaceLabel(const nn::NnunetPlans& plans, std::string& note) {
  const nn::LabelEntry* hit = nullptr;
  for (const auto& l : plans.labels)
    if (lower(l.name) == "face" && !l.values.empty()) hit = &l;
  if (!hit)
    for (const auto& l : plans.labels)
      if (lower(l.name).find("face") != std::string::npos && !l.values.empty() && l.values.front() != 0) {
        hit = &l;
        break;
      }
  if (hit) {
    note = "face label '" + hit->name + "' = " + std::to_string(hit->values.front());
    return hit->values.front();
  }
  note = "no label named like 'face' in dataset.json; using label 1";
  return 1;
}

NnunetSegmenter::NnunetSegmenter(const std::filesystem::path& model_folder, const PredictorOptions& options,
                                 std::string display_name, FaceRegionOptions region)
    : predictor_(std::make_unique<NnunetPredictor>(model_folder, options)),
      name_(std::move(display_name)),
      region_(region) {
  if (region_.enabled && !(region_.margin_mm >= 0)) throw Error("--roi-margin must be >= 0 mm");
  face_label_ = findFaceLabel(predictor_->plans(), face_note_);
  if (predictor_->plans().numInputChannels() != 1)
    throw Error(model_folder, "the model expects " + std::to_string(predictor_->plans().numInputChannels()) +
                                  " input channels; a CT series is one");
}

FaceSegmentation NnunetSegmenter::segment(const Volume& v) {
  const StackGeometry geo = analyzeStack(v);
  Volume grid;
  const Volume* src = &v;
  if (!geo.regular()) {
    grid = regularGridFor(v);
    resampleInto(v, grid, -1024.0f);
    src = &grid;
  }
  ImageGrid image(1, {static_cast<std::int64_t>(src->nz), static_cast<std::int64_t>(src->ny),
                      static_cast<std::int64_t>(src->nx)});
  std::copy(src->hu.begin(), src->hu.end(), image.data.begin());
  const Spacing3 spacing{sliceSpacing(*src), src->row_spacing, src->col_spacing};
  std::optional<Box3> roi;
  std::string region_note;
  if (region_.enabled) {
    const FaceRegion fr = findFaceRegion(*src, region_.margin_mm);
    region_note = fr.note;
    if (fr.found)
      roi = fr.box;
    else
      region_note += ": whole image predicted";
  }
  std::pair<std::size_t, std::size_t> tiles{0, 0};
  ExportedPrediction pred = predictor_->predict(image, spacing, false, {}, roi, &tiles);
  image = ImageGrid();

  VoxelMask mask(src->nx, src->ny, src->nz);
  const auto face = static_cast<std::uint8_t>(face_label_);
  for (std::size_t i = 0; i < mask.data.size(); ++i) mask.data[i] = pred.labels[i] == face;
  pred = ExportedPrediction();

  FaceSegmentation out;
  if (!geo.regular()) {
    grid.hu.clear();
    grid.hu.shrink_to_fit();
    out.mask = maskToNative(mask, grid, v);
  } else {
    out.mask = std::move(mask);
  }
  const std::size_t n = out.mask.count();
  out.face_in_view = n > 0;
  std::ostringstream note;
  note << "nnU-Net " << name_ << " (" << predictor_->plans().configuration << ", folds";
  for (const auto& f : predictor_->folds()) note << ' ' << f;
  note << (predictor_->options().tta ? ", TTA" : "") << "): " << face_note_ << ", " << n << " face voxels";
  if (!geo.regular()) note << " (predicted on the regular grid, " << grid.nz << " slices)";
  if (region_.enabled) note << "; --roi face: " << region_note << ", " << tiles.first << " of " << tiles.second << " tiles";
  if (!out.face_in_view) note << "; no face in view";
  out.note = note.str();
  return out;
}

}  // namespace ctd::nnunet
