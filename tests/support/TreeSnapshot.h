#pragma once
// Test helper: a content snapshot of a folder (relative path -> size + FNV-1a 64
// hash of the bytes) to prove inputs are never modified.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace ctd::test {

inline std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

inline std::string readBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct FileStamp {
  std::uintmax_t size = 0;
  std::uint64_t hash = 0;
  bool operator==(const FileStamp&) const = default;
};

inline std::map<std::string, FileStamp> snapshotTree(const std::filesystem::path& root) {
  std::map<std::string, FileStamp> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string bytes = readBytes(e.path());
    out[e.path().lexically_relative(root).string()] = {bytes.size(), fnv1a(bytes)};
  }
  return out;
}

}  // namespace ctd::test
