#include "batch/FileStamp.h"

#include <gdcmSHA1.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/Error.h"

namespace ctd::batch {

std::string sha1OfFile(const std::filesystem::path& file) {
  char hex[20 * 2 + 1] = {};
  if (!gdcm::SHA1::ComputeFile(file.c_str(), hex)) throw Error(file, "cannot read to hash it");
  return hex;
}

FileStamp stampFile(const std::filesystem::path& file, const std::string& relative, bool hash) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw Error(file, std::string("cannot stat: ") + std::strerror(errno));
  FileStamp s;
  s.path = relative;
  s.size = static_cast<std::uintmax_t>(st.st_size);
  s.mtime_ns = std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  // GDCM's SHA1 fails on an empty file (it reads zero bytes); an empty file's hash is fixed.
  if (hash) s.sha1 = s.size == 0 ? "da39a3ee5e6b4b0d3255bfef95601890afd80709" : sha1OfFile(file);
  return s;
}

nlohmann::json toJson(const FileStamp& s) {
  return {{"path", s.path}, {"size", s.size}, {"mtime_ns", s.mtime_ns}, {"sha1", s.sha1}};
}

FileStamp fileStampFromJson(const nlohmann::json& j) {
  return {j.value("path", ""), j.value("size", std::uintmax_t{0}), j.value("mtime_ns", std::int64_t{0}),
          j.value("sha1", "")};
}

}  // namespace ctd::batch
