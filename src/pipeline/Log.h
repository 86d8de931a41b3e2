#pragma once
// Plain, thread-safe log lines on stderr; quiet / verbose levels. A status line
// (the batch's progress bar on a terminal) stays below the log lines, and a
// thread can copy its lines into a case's own log file.
#include <filesystem>
#include <memory>
#include <string>

namespace ctd::log {

enum class Level { Quiet = 0, Normal = 1, Verbose = 2 };
void setLevel(Level l);
Level level();
void info(const std::string& line);     // shown unless --quiet
void detail(const std::string& line);   // shown with --verbose
void warn(const std::string& line);     // always shown, prefixed "warning: "
void error(const std::string& line);    // always shown, prefixed "error: "

// The bottom line of the terminal (no newline), redrawn after every log line;
// empty removes it. Only for a terminal: the caller checks isatty.
void setStatusLine(const std::string& line);

// While alive, every line the current thread logs (at any level) is also
// appended to `file` (a case's log in its work folder).
class ThreadLogFile {
 public:
  explicit ThreadLogFile(const std::filesystem::path& file);
  ~ThreadLogFile();
  ThreadLogFile(const ThreadLogFile&) = delete;
  ThreadLogFile& operator=(const ThreadLogFile&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctd::log
