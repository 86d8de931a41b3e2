#pragma once
// Every error the user sees is one line that names the file it is about.
#include <filesystem>
#include <stdexcept>
#include <string>

namespace ctd {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  Error(const std::filesystem::path& file, const std::string& what)
      : std::runtime_error(file.string() + ": " + what), file_(file) {}
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
};

}  // namespace ctd
