#pragma once
// Whole-file writes that never leave a partial file at the final path:
// write to a temporary sibling, fsync, rename.
#include <filesystem>
#include <string_view>

namespace ctd {

void writeFileAtomically(const std::filesystem::path& target, std::string_view bytes);

}  // namespace ctd
