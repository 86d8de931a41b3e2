#pragma once
// OUT/qc/index.html: one self-contained page (inline CSS and script, relative
// image paths, nothing fetched from elsewhere) with one row per series, which
// can be filtered by status and sorted by any column.
#include <filesystem>
#include <string>
#include <vector>

namespace ctd::qc {

struct GalleryRow {
  std::string case_name, series, status, error;
  std::string face_before, face_after;  // e.g. "face (front, score 23)" / "no face (best 4)"
  std::string before_png, after_png, slices_png;  // relative to the qc folder; empty: none
  double render_seconds = 0, detect_seconds = 0;
};

// Written atomically; the page also fills <pre id="qc-selftest"> on load with
// {"rows": n, "images": n, "loaded": n} (images with naturalWidth > 0), so a
// headless browser can check it.
void writeGallery(const std::filesystem::path& qc_root, const std::vector<GalleryRow>& rows,
                  const std::string& file_name = "index.html");

std::string htmlEscape(const std::string& s);

}  // namespace ctd::qc
