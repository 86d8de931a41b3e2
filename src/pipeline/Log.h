#pragma once
// Plain, thread-safe log lines on stderr; quiet / verbose levels.
#include <string>

namespace ctd::log {

enum class Level { Quiet = 0, Normal = 1, Verbose = 2 };
void setLevel(Level l);
Level level();
void info(const std::string& line);     // shown unless --quiet
void detail(const std::string& line);   // shown with --verbose
void warn(const std::string& line);     // always shown, prefixed "warning: "
void error(const std::string& line);    // always shown, prefixed "error: "

}  // namespace ctd::log
