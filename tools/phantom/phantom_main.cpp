// ctdeface-phantom: writes an anthropomorphic head phantom as a DICOM CT
// series, its exact label map (NIfTI, uint8) and its face landmarks (JSON).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/Error.h"
#include "phantom/PhantomGenerator.h"
#include "synth/SyntheticSeries.h"
#include "volume/NiftiIO.h"

int main(int argc, char** argv) {
  using namespace ctd;
  CLI::App app{"ctdeface-phantom: anthropomorphic head CT phantom with labels and landmarks"};
  std::string out;
  unsigned random_seed = 0;
  phantom::PhantomSpec s;
  std::string fov = "full-head";
  app.add_option("out", out, "output folder (dicom/, labels.nii.gz, landmarks.json)")->required();
  app.add_option("--random", random_seed, "draw pose, field of view and acquisition from this seed (other options ignored)");
  app.add_option("--seed", s.seed, "noise / streak seed");
  app.add_option("--yaw", s.yaw_deg, "degrees");
  app.add_option("--pitch", s.pitch_deg, "degrees");
  app.add_option("--roll", s.roll_deg, "degrees");
  app.add_flag("--prone", s.prone, "head first prone (rows/columns flipped, couch in front of the face)");
  app.add_option("--fov", fov, "full-head | face-cut-top | face-cut-bottom | face-outside | neck-only");
  app.add_option("--slice-step", s.slice_step_mm, "mm between slice positions");
  app.add_option("--pixel-spacing", s.pixel_spacing_mm, "mm");
  app.add_option("--matrix", s.matrix, "rows = columns");
  app.add_option("--tilt", s.gantry_tilt_deg, "gantry tilt, degrees");
  app.add_option("--noise", s.noise_hu, "noise standard deviation, HU");
  app.add_flag("--metal", s.dental_metal, "dental metal and streaks");
  app.add_flag("--open-mouth", s.open_mouth, "mandible opened");
  app.add_option("--scale", s.scale, "1 = adult, 0.75 = child");
  app.add_flag("!--no-soft-tissue", s.soft_tissue, "bare skull");
  app.add_flag("!--no-table", s.table, "no couch");
  CLI11_PARSE(app, argc, argv);

  try {
    if (random_seed != 0) {
      s = phantom::PhantomSpec::random(random_seed);
    } else {
      bool known = false;
      for (auto f : {phantom::PhantomFov::FullHead, phantom::PhantomFov::FaceCutTop, phantom::PhantomFov::FaceCutBottom,
                     phantom::PhantomFov::FaceOutside, phantom::PhantomFov::NeckOnly})
        if (fov == phantom::toString(f)) s.fov = f, known = true;
      if (!known) throw Error("--fov", "unknown field of view '" + fov + "'");
    }
    const phantom::PhantomCase pc = phantom::makePhantom(s);
    const std::filesystem::path dir(out);
    std::filesystem::create_directories(dir);
    synth::SeriesSpec series;
    series.volume = pc.ct;
    series.series_description = "phantom " + s.describe();
    series.seed = s.seed;
    synth::writeSeries(series, dir / "dicom");
    Volume labels = pc.ct;
    for (std::size_t i = 0; i < labels.hu.size(); ++i) labels.hu[i] = pc.labels.data[i];
    writeNifti(labels, dir / "labels.nii.gz", NiftiPixel::UInt8);
    std::ofstream js(dir / "landmarks.json");
    js << "{\n  \"spec\": \"" << s.describe() << "\",\n  \"coordinates\": \"LPS mm\",\n  \"landmarks\": {\n";
    for (std::size_t i = 0; i < pc.landmarks.size(); ++i) {
      const auto& l = pc.landmarks[i];
      js << "    \"" << l.name << "\": [" << l.lps[0] << ", " << l.lps[1] << ", " << l.lps[2] << "]"
         << (i + 1 < pc.landmarks.size() ? "," : "") << "\n";
    }
    js << "  }\n}\n";
    std::printf("%s: %zux%zux%zu, %s\n", out.c_str(), pc.ct.nx, pc.ct.ny, pc.ct.nz, s.describe().c_str());
  } catch (const std::exception& e) {
    std::cerr << "ctdeface-phantom: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
