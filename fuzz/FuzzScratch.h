#pragma once
// libFuzzer targets read files by path, as the product does: each input is
// written into a per-process scratch folder (in /dev/shm when there is one, so
// an iteration costs no disk I/O) and split into several files at a marker.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ctd::fuzz {

// Separates the files of one input ("CTD-FUZZ-NEXT-FILE" is in the dictionaries).
constexpr std::string_view kFileMarker = "CTD-FUZZ-NEXT-FILE";

inline const std::filesystem::path& scratchDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    if (const char* env = std::getenv("CTD_FUZZ_SCRATCH")) base = env;
    auto d = base / ("ctd-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    // libFuzzer's -fork mode starts a process per job: each removes its own
    // folder when it exits normally (forked GDCM children leave by _exit).
    // (The path is copied to a never-destroyed string: `dir` itself may be
    // destroyed before atexit handlers registered during its construction run.)
    static const auto* kept = new std::filesystem::path(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(*kept, ec);
    });
    return d;
  }();
  return dir;
}

// The input cut at each marker, at most `max_parts` parts (the last takes the rest).
inline std::vector<std::string_view> splitInput(const std::uint8_t* data, std::size_t size, std::size_t max_parts) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const std::size_t at = all.find(kFileMarker);
    if (at == std::string_view::npos) break;
    parts.push_back(all.substr(0, at));
    all.remove_prefix(at + kFileMarker.size());
  }
  parts.push_back(all);
  return parts;
}

inline void writeFile(const std::filesystem::path& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A fresh folder under the scratch folder for one iteration.
inline std::filesystem::path freshFolder(const std::string& name) {
  const auto d = scratchDir() / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace ctd::fuzz
