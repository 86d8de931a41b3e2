#include "pipeline/DefaceNifti.h"

#include <algorithm>
#include <cmath>

#include "core/Error.h"
#include "pipeline/HuCalibration.h"
#include "pipeline/Log.h"
#include "segment/Blend.h"
#include "volume/NiftiIO.h"

namespace fs = std::filesystem;

namespace ctd {
namespace {

bool isNifti(const fs::path& p) {
  const std::string n = p.filename().string();
  auto ends = [&](const std::string& s) { return n.size() > s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0; };
  return ends(".nii") || ends(".nii.gz");
}

std::string stem(const fs::path& p) {
  std::string n = p.filename().string();
  for (const char* ext : {".nii.gz", ".nii"}) {
    const std::string e = ext;
    if (n.size() > e.size() && n.compare(n.size() - e.size(), e.size(), e) == 0) return n.substr(0, n.size() - e.size());
  }
  return n;
}

// Integer-valued CT stays int16 (as CTA-DEFACE's inputs are); anything else float.
NiftiPixel pixelFor(const Volume& v) {
  for (float x : v.hu)
    if (x != std::nearbyint(x) || x < -32768.f || x > 32767.f) return NiftiPixel::Float32;
  return NiftiPixel::Int16;
}

}  // namespace

std::vector<NiftiDefaceResult> defaceNifti(const fs::path& input, const fs::path& out_dir, const DefaceOptions& opt) {
  std::vector<fs::path> files;
  if (fs::is_directory(input)) {
    for (const auto& e : fs::directory_iterator(input))
      if (e.is_regular_file() && isNifti(e.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error(input, "no .nii or .nii.gz files in this folder");
  } else if (fs::is_regular_file(input)) {
    files.push_back(input);
  } else {
    throw Error(input, "input does not exist");
  }
  auto segmenter = makeSegmenter(opt);
  const FillSpec fill = parseFillSpec(opt.fill);
  fs::create_directories(out_dir);

  std::vector<NiftiDefaceResult> results;
  for (const auto& f : files) {
    NiftiDefaceResult r;
    r.input = f;
    r.image_out = out_dir / (stem(f) + ".nii.gz");
    r.mask_out = out_dir / (stem(f) + "_mask.nii.gz");
    try {
      Volume v = readNifti(f);
      const NiftiPixel px = pixelFor(v);
      const HuCalibration cal = checkHuCalibration(v, opt.hu_offset);
      if (cal.offset != 0) {
        for (float& x : v.hu) x -= static_cast<float>(cal.offset);
        log::warn(f.filename().string() + ": " + cal.note);
      }
      FaceSegmentation seg = segmenter->segment(v);
      log::detail(f.filename().string() + ": " + seg.note);
      applyMask(v, seg.mask, fillValueHu(v, fill));
      // Written back in the file's own value scale.
      if (cal.offset != 0)
        for (float& x : v.hu) x += static_cast<float>(cal.offset);
      writeNifti(v, r.image_out, px);
      writeNiftiMask(seg.mask, v, r.mask_out);
      r.voxels_removed = seg.mask.count();
      r.face_in_view = seg.face_in_view;
      log::info(f.filename().string() + ": " + (seg.face_in_view ? "defaced, " : "no face in view, ") +
                std::to_string(r.voxels_removed) + " voxels removed");
    } catch (const std::exception& e) {
      fs::remove(r.image_out);
      fs::remove(r.mask_out);
      r.error = e.what();
      log::error(r.error);
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace ctd
