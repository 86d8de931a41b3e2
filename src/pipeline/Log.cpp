#include "pipeline/Log.h"

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>

namespace ctd::log {
namespace {
std::atomic<Level> g_level{Level::Normal};
std::mutex g_mutex;
std::string g_status;  // guarded by g_mutex
thread_local std::ofstream* t_file = nullptr;

void emit(bool shown, const std::string& prefix, const std::string& line) {
  if (t_file) *t_file << prefix << line << '\n';
  if (!shown) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_status.empty()) std::cerr << "\r\033[K";
  std::cerr << prefix << line << '\n';
  if (!g_status.empty()) std::cerr << g_status << std::flush;
}
}  // namespace

void setLevel(Level l) { g_level = l; }
Level level() { return g_level; }
void info(const std::string& line) { emit(g_level >= Level::Normal, "", line); }
void detail(const std::string& line) { emit(g_level >= Level::Verbose, "  ", line); }
void warn(const std::string& line) { emit(true, "warning: ", line); }
void error(const std::string& line) { emit(true, "error: ", line); }

void setStatusLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (line.empty() && g_status.empty()) return;
  std::cerr << "\r\033[K" << line << std::flush;
  g_status = line;
}

struct ThreadLogFile::Impl {
  std::ofstream out;
  std::ofstream* previous = nullptr;
};

ThreadLogFile::ThreadLogFile(const std::filesystem::path& file) : impl_(std::make_unique<Impl>()) {
  impl_->out.open(file, std::ios::app);
  impl_->previous = t_file;
  if (impl_->out) t_file = &impl_->out;
}

ThreadLogFile::~ThreadLogFile() { t_file = impl_->previous; }

}  // namespace ctd::log
