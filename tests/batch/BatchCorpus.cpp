#include "BatchCorpus.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>

#include "phantom/PhantomGenerator.h"
#include "support/RunCommand.h"
#include "support/TreeSnapshot.h"
#include "synth/SyntheticSeries.h"

extern char** environ;

namespace fs = std::filesystem;

namespace ctd::test {

fs::path freshBatchDir(const std::string& name) {
  const fs::path d = fs::path(CTD_BINARY_DIR) / "test-batch" / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

namespace {

fs::path writePhantom(const fs::path& dir, unsigned seed, std::size_t matrix, double pixel, double step,
                      const std::string& ts) {
  phantom::PhantomSpec s;
  s.seed = seed;
  s.matrix = matrix;
  s.pixel_spacing_mm = pixel;
  s.slice_step_mm = step;
  s.noise_hu = 5;
  const phantom::PhantomCase pc = phantom::makePhantom(s);
  synth::SeriesSpec series;
  series.volume = pc.ct;
  series.series_description = "phantom " + std::to_string(seed);
  series.seed = seed;
  series.transfer_syntax = ts;
  series.patient_id = "P" + std::to_string(seed);
  const fs::path out = dir / "dicom";
  synth::writeSeries(series, out);
  return out;
}

std::vector<fs::path> slices(const fs::path& series_dir) {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(series_dir))
    if (e.is_regular_file()) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

void writeBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

fs::path writeSmallCase(const fs::path& dir, unsigned seed, const std::string& transfer_syntax) {
  return writePhantom(dir, seed, 16, 2.0, 20.0, transfer_syntax);
}

fs::path writeFaceCase(const fs::path& dir, unsigned seed) {
  return writePhantom(dir, seed, 48, 5.0, 8.0, "1.2.840.10008.1.2.1");
}

std::string truncateSlice(const fs::path& series_dir) {
  const fs::path f = slices(series_dir).at(4);
  fs::resize_file(f, fs::file_size(f) * 7 / 10);
  return f.filename().string();
}

std::string addGarbageDcm(const fs::path& series_dir) {
  std::mt19937 rng(7);
  std::string bytes(2000, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  writeBytes(series_dir / "IM0099.dcm", bytes);
  return "IM0099.dcm";
}

std::string shortenPixelData(const fs::path& series_dir) {
  const fs::path f = slices(series_dir).at(3);
  std::string bytes = readBytes(f);
  // Explicit VR little endian: (7FE0,0010) OW, 2 reserved bytes, 32-bit length.
  const std::string tag("\xE0\x7F\x10\x00OW\x00\x00", 8);
  const auto at = bytes.rfind(tag);
  if (at == std::string::npos) throw std::runtime_error("no PixelData in " + f.string());
  std::uint32_t len = 0;
  std::memcpy(&len, bytes.data() + at + 8, 4);
  len -= 64;
  std::memcpy(bytes.data() + at + 8, &len, 4);
  bytes.resize(bytes.size() - 64);
  writeBytes(f, bytes);
  return f.filename().string();
}

std::string corruptCompressedFrame(const fs::path& series_dir) {
  const fs::path f = slices(series_dir).at(5);
  std::string bytes = readBytes(f);
  // The frame is the last fragment: cut its second half, keeping the file's item lengths.
  const std::string item("\xFE\xFF\x00\xE0", 4);
  const auto at = bytes.rfind(item);
  if (at == std::string::npos) throw std::runtime_error("no fragment in " + f.string());
  std::uint32_t len = 0;
  std::memcpy(&len, bytes.data() + at + 4, 4);
  for (std::size_t i = at + 8 + len / 3; i < at + 8 + len - 16 && i < bytes.size(); ++i) bytes[i] = '\x00';
  writeBytes(f, bytes);
  return f.filename().string();
}

std::string replaceWithBrokenLink(const fs::path& series_dir) {
  const fs::path f = slices(series_dir).at(6);
  fs::remove(f);
  fs::create_symlink(series_dir / "no-such-target.dcm", f);
  return f.filename().string();
}

RunResult runCtdeface(const std::string& args, const std::string& env) {
  const CommandResult r = runCommand(env + (env.empty() ? "" : " ") + quoted(CTD_CLI) + " " + args);
  return {r.exit_code, r.output};
}

pid_t spawnCtdeface(const std::vector<std::string>& args, const fs::path& log, const std::vector<std::string>& env) {
  std::vector<std::string> argv_s{CTD_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, CTD_CLI, &fa, nullptr, argv.data(), envp.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::map<std::string, std::string> outputFiles(const fs::path& out) {
  std::map<std::string, std::string> files;
  for (auto it = fs::recursive_directory_iterator(out); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (it->is_directory() && name.rfind(".ctdeface-", 0) == 0) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file() || name.rfind(".", 0) == 0 || name.rfind("ctdeface-report", 0) == 0) continue;
    files[it->path().lexically_relative(out).string()] = readBytes(it->path());
  }
  return files;
}

nlohmann::json readJson(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

namespace {
void dropVolatile(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      const std::string k = it.key();
      if (k.ends_with("seconds") || k == "status") it = j.erase(it);
      else dropVolatile(*it++);
    }
  } else if (j.is_array()) {
    for (auto& e : j) dropVolatile(e);
  }
}
}  // namespace

nlohmann::json stableJson(nlohmann::json j) {
  j.erase("output");
  dropVolatile(j);
  return j;
}

nlohmann::json stableReport(const fs::path& out, const std::string& stem) {
  return stableJson(readJson(out / (stem + ".json")));
}

}  // namespace ctd::test
