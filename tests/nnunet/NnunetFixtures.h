#pragma once
// Reading the fixtures written by tests/oracle/make_nnunet_fixtures.py (gzip'd raw arrays, JSON).
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ctd::nnunet::testing {

inline std::filesystem::path fixtureDir() { return std::filesystem::path(CTD_SOURCE_DIR) / "tests/fixtures/nnunet"; }

inline nlohmann::json readJson(const std::filesystem::path& p) {
  std::ifstream f(p);
  if (!f) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(f);
}

template <class T>
std::vector<T> readGz(const std::filesystem::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + p.string());
  std::vector<char> bytes;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  gzclose(f);
  std::vector<T> out(bytes.size() / sizeof(T));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

// arrays.json case by name.
inline const nlohmann::json& arrayCase(const std::string& name) {
  static const nlohmann::json all = readJson(fixtureDir() / "arrays.json");
  for (const auto& c : all["cases"])
    if (c["name"] == name) return c;
  throw std::runtime_error("no array case " + name);
}

}  // namespace ctd::nnunet::testing
