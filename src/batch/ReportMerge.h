#pragma once
// Shard reports (--shard I/N writes OUT/ctdeface-report.shard-I-of-N.json/.csv)
// merged into OUT/ctdeface-report.json/.csv. The last shard to finish merges
// by itself; `ctdeface report merge OUT` does it by hand.
#include <filesystem>
#include <optional>

#include "pipeline/Report.h"

namespace ctd::batch {

// The merged report of every shard part in `out` (all of one N), saved as
// ctdeface-report.json/.csv. A missing part becomes a case error naming it.
// Throws ctd::Error when there is no part at all.
RunReport mergeShardReports(const std::filesystem::path& out);

// Merges only when all N parts of `count` are present; nullopt otherwise.
std::optional<RunReport> mergeIfComplete(const std::filesystem::path& out, int count);

}  // namespace ctd::batch
