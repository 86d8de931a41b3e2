// A probe, not a check: the share of each phantom label the geometric mask
// takes, over full-head poses CTD_LABEL_SEEDS=a-b (skipped without it). The
// figures in docs/geometric-segmenter.md (what the cut costs besides the
// face) come from it.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "phantom/PhantomGenerator.h"
#include "segment/GeometricSegmenter.h"

namespace ctd {

TEST(GeometricLabelProbe, PrintsShareOfEachLabelMasked) {
  const char* env = std::getenv("CTD_LABEL_SEEDS");
  if (!env) GTEST_SKIP() << "set CTD_LABEL_SEEDS=a-b";
  const std::string r(env);
  const unsigned a = std::stoul(r.substr(0, r.find('-'))), b = std::stoul(r.substr(r.find('-') + 1));
  double tot[16] = {0}, msk[16] = {0};
  for (unsigned seed = a; seed <= b; ++seed) {
    phantom::PhantomSpec s = phantom::PhantomSpec::random(seed);
    s.fov = phantom::PhantomFov::FullHead;
    const auto pc = phantom::makePhantom(s);
    const auto res = GeometricSegmenter().segment(pc.ct);
    for (std::size_t i = 0; i < pc.labels.data.size(); ++i) {
      tot[pc.labels.data[i]] += 1;
      msk[pc.labels.data[i]] += res.mask.data[i];
    }
  }
  const char* names[] = {"Air", "Soft",     "Skull", "Cavity", "Globe", "Nose",  "Lips", "Chin",
                         "Ear", "Mandible", "Neck",  "IntAir", "Teeth", "Spine", "Table"};
  for (int l = 1; l < 15; ++l)
    if (tot[l] > 0) std::printf("%-9s %6.2f %% masked\n", names[l], 100.0 * msk[l] / tot[l]);
}

}  // namespace ctd
