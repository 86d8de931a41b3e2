// The QC gallery in a real browser: a batch of phantom cases through the CLI,
// then headless Chromium loads OUT/qc/index.html. The page's own script writes
// {"rows", "images", "loaded"} into <pre id=qc-selftest> on load (images with
// naturalWidth > 0); --dump-dom gives it back. A screenshot is kept beside it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "phantom/PhantomGenerator.h"
#include "support/RunCommand.h"
#include "synth/SyntheticSeries.h"

namespace fs = std::filesystem;
using namespace ctd;

namespace {

const fs::path kChromium = "/usr/bin/chromium";

std::string chromium(const fs::path& profile, const std::string& args) {
  return kChromium.string() +
         " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"
         " --disable-component-update --disable-sync --user-data-dir=" +
         profile.string() + " " + args;
}

}  // namespace

TEST(GalleryBrowser, EveryImageLoadsAndRowsMatchTheReport) {
  if (!fs::exists(kChromium)) GTEST_SKIP() << "chromium is not installed (CI installs it)";
  const fs::path root = fs::path(CTD_BINARY_DIR) / "qc-gallery-browser";
  fs::remove_all(root);
  // Three cases: two poses and one neck-only slab (no face: a different status).
  const struct {
    const char* name;
    double yaw;
    phantom::PhantomFov fov;
  } cases[] = {{"caseA", 0, phantom::PhantomFov::FullHead},
               {"caseB", -18, phantom::PhantomFov::FullHead},
               {"caseC", 0, phantom::PhantomFov::NeckOnly}};
  for (const auto& c : cases) {
    phantom::PhantomSpec spec;
    spec.yaw_deg = c.yaw;
    spec.fov = c.fov;
    spec.slice_step_mm = 3;
    synth::SeriesSpec s;
    s.volume = phantom::makePhantom(spec).ct;
    s.series_description = std::string("phantom ") + c.name;
    synth::writeSeries(s, root / "in" / c.name);
  }
  const fs::path out = root / "out";
  const auto run = test::runCommand(std::string(CTD_CLI) + " -i " + (root / "in").string() + " -o " + out.string());
  std::cout << run.output << "\n";
  ASSERT_TRUE(fs::exists(out / "qc" / "index.html"));
  std::ifstream rf(out / "ctdeface-report.json");
  const auto report = nlohmann::json::parse(rf);
  const std::size_t series = report["series"].size();
  ASSERT_EQ(series, 3u);

  const fs::path page = fs::absolute(out / "qc" / "index.html");
  const auto dom = test::runCommand(chromium(root / "profile", "--dump-dom file://" + page.string()));
  // A plain find, not <regex>: GCC 12 warns inside <regex> under -fsanitize (-Werror in CI).
  const std::string open_tag = "<pre id=\"qc-selftest\">";
  const std::size_t begin = dom.output.find(open_tag);
  ASSERT_NE(begin, std::string::npos) << "no self-test in the DOM:\n" << dom.output.substr(0, 2000);
  const std::size_t first = begin + open_tag.size();
  const std::size_t end = dom.output.find("</pre>", first);
  ASSERT_NE(end, std::string::npos);
  const auto facts = nlohmann::json::parse(dom.output.substr(first, end - first));
  std::cout << "qc-selftest: " << facts.dump() << "\n";
  EXPECT_EQ(facts["rows"].get<std::size_t>(), series);
  EXPECT_EQ(facts["images"].get<std::size_t>(), 3 * series);  // before, after, slices per row
  EXPECT_EQ(facts["loaded"].get<std::size_t>(), facts["images"].get<std::size_t>());

  const fs::path shot = root / "gallery.png";
  const auto s = test::runCommand(
      chromium(root / "profile", "--window-size=1400,1000 --screenshot=" + shot.string() + " file://" + page.string()));
  EXPECT_TRUE(fs::exists(shot)) << s.output;
  EXPECT_GT(fs::file_size(shot), 10000u);
  std::cout << "screenshot: " << shot.string() << "\n";
}
