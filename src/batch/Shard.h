#pragma once
// --shard I/N: a deterministic subset of the cases for job-array schedulers
// (Slurm), without MPI. A case belongs to shard (FNV-1a of its name mod N) + 1,
// so the split does not move when cases are added to the input.
#include <string>

namespace ctd::batch {

struct Shard {
  int index = 0, count = 0;  // 1-based; 0/0 = every case
  bool active() const { return count > 0; }
  bool holds(const std::string& case_name) const;
  std::string reportStem() const;  // ctdeface-report or ctdeface-report.shard-I-of-N
};

// Parses "I/N" with 1 <= I <= N; throws ctd::Error (a usage error) otherwise.
Shard parseShard(const std::string& text);

}  // namespace ctd::batch
