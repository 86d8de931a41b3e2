#pragma once
// What a file was when a case ran: size, modification time and SHA-1 of the
// bytes. The resumable state records stamp every input and output of a case.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace ctd::batch {

struct FileStamp {
  std::string path;  // relative (to the case root, or to the output root it is in)
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha1;  // hex; empty when not hashed
};

// Throws ctd::Error naming the file when it cannot be read.
FileStamp stampFile(const std::filesystem::path& file, const std::string& relative, bool hash);
std::string sha1OfFile(const std::filesystem::path& file);

nlohmann::json toJson(const FileStamp& s);
FileStamp fileStampFromJson(const nlohmann::json& j);

}  // namespace ctd::batch
