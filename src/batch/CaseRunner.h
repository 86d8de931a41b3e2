#pragma once
// Runs one case of a batch the resumable way: skip it when its state record
// still describes it (unless --force); otherwise clear what an interrupted or
// earlier run left of it (staging folders, temporaries, the outputs its old
// record lists), stamp its inputs, deface it with a work folder, stamp its
// outputs and write its state record last. One runner per worker thread.
#include <memory>

#include "batch/CaseState.h"
#include "pipeline/DefaceJob.h"

namespace ctd::batch {

class CaseRunner {
 public:
  // `opt` is the case worker's copy (threads = this case's share).
  CaseRunner(const DefaceOptions& opt, bool single_case);
  // `walk_skipped`: what discovery could not read below the case root.
  CaseReport run(const CaseInput& c, const std::vector<SetAside>& walk_skipped);

  // The work root in use: -w, or OUT/.ctdeface-work.
  static std::filesystem::path workRoot(const DefaceOptions& opt);

 private:
  CaseReport skipped(const CaseState& old) const;
  void clearLeftovers(const CaseInput& c, const std::optional<CaseState>& old) const;

  DefaceOptions opt_;
  bool single_case_;
  std::string options_;
  CaseStateStore store_;
  std::unique_ptr<FaceSegmenter> segmenter_;
};

}  // namespace ctd::batch
