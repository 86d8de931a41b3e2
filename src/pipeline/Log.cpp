#include "pipeline/Log.h"

#include <atomic>
#include <iostream>
#include <mutex>

namespace ctd::log {
namespace {
std::atomic<Level> g_level{Level::Normal};
std::mutex g_mutex;
void emit(const std::string& prefix, const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cerr << prefix << line << '\n';
}
}  // namespace

void setLevel(Level l) { g_level = l; }
Level level() { return g_level; }
void info(const std::string& line) {
  if (g_level >= Level::Normal) emit("", line);
}
void detail(const std::string& line) {
  if (g_level >= Level::Verbose) emit("  ", line);
}
void warn(const std::string& line) { emit("warning: ", line); }
void error(const std::string& line) { emit("error: ", line); }

}  // namespace ctd::log
