#pragma once
// Byte-for-byte copy of one file that reports why it failed. std::filesystem's
// copy_file falls back to streams when the kernel copy fails, and a full disk
// (ENOSPC) or a file size limit (EFBIG) then reads "Input/output error".
#include <filesystem>

namespace ctd {

// Copies `from` to `to` (created or truncated). Throws ctd::Error naming
// `from` with the system's reason, e.g. "No space left on device".
void copyFileBytes(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace ctd
