#include "dicom/IsolatedFilePass.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>

#include "core/Error.h"

namespace ctd {
namespace {

std::atomic<std::uint64_t> g_casualties{0};
IsolatedPassHooks g_hooks;

void endChildOnSignal(int sig) {
  g_hooks.child_end();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

[[noreturn]] void endChild(int code) {
  if (g_hooks.child_end) g_hooks.child_end();
  ::_exit(code);
}

// The job's message without the "<file>: " that ctd::Error puts first: the
// caller names the file itself.
std::string reasonOf(const std::exception& e, const std::filesystem::path& file) {
  std::string why = e.what();
  const std::string prefix = file.string() + ": ";
  if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
  return why;
}

FileJobResult runJob(const std::function<std::string(const std::filesystem::path&)>& job,
                     const std::filesystem::path& file) {
  FileJobResult r;
  try {
    r.bytes = job(file);
    r.ok = true;
  } catch (const std::exception& e) {
    r.reason = reasonOf(e, file);
  }
  return r;
}

bool writeAll(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Child: one record per file, in order: u8 ok, u64 length, bytes.
[[noreturn]] void childMain(int fd, const std::vector<std::filesystem::path>& files, std::size_t from,
                            const std::function<std::string(const std::filesystem::path&)>& job) {
  // A crash must end this child by its signal, for the parent to read; the
  // handlers inherited (a sanitizer's, libFuzzer's) would report it as the
  // whole process's.
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, g_hooks.child_end ? endChildOnSignal : SIG_DFL);
  ::signal(SIGPIPE, SIG_IGN);
  if (g_hooks.child_start) g_hooks.child_start();
  for (std::size_t i = from; i < files.size(); ++i) {
    const FileJobResult r = runJob(job, files[i]);
    const std::string& body = r.ok ? r.bytes : r.reason;
    const std::uint8_t ok = r.ok;
    const std::uint64_t n = body.size();
    if (!writeAll(fd, &ok, 1) || !writeAll(fd, &n, sizeof n) || !writeAll(fd, body.data(), body.size())) endChild(3);
  }
  endChild(0);
}

// Parent side of one child: reads whole records as they come.
class ChildStream {
 public:
  ChildStream(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  ~ChildStream() { finish(true); }

  enum class Got { Record, Ended, TimedOut };
  // Waits up to `timeout` for the next whole record.
  Got next(std::chrono::milliseconds timeout, FileJobResult& out) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (buffer_.size() >= 9) {
        std::uint64_t n;
        std::memcpy(&n, buffer_.data() + 1, sizeof n);
        if (buffer_.size() - 9 >= n) {
          out = {};
          out.ok = buffer_[0] != 0;
          (out.ok ? out.bytes : out.reason).assign(buffer_, 9, n);
          buffer_.erase(0, 9 + n);
          return Got::Record;
        }
      }
      if (eof_) return Got::Ended;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Got::TimedOut;
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
      if (ready < 0 && errno != EINTR) eof_ = true;
      if (ready <= 0) continue;
      char chunk[65536];
      const ssize_t got = ::read(fd_, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) eof_ = true;
      else buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  // Reaps the child (killing it first when asked) and returns its wait status.
  int finish(bool kill) {
    if (fd_ >= 0) ::close(fd_), fd_ = -1;
    if (pid_ <= 0) return status_;
    if (kill) ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (g_hooks.parent_merge) g_hooks.parent_merge();
    return status_;
  }

 private:
  pid_t pid_;
  int fd_;
  int status_ = 0;
  bool eof_ = false;
  std::string buffer_;
};

std::string howItDied(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sig == SIGABRT ? "SIGABRT, a GDCM assertion" : sig == SIGSEGV ? "SIGSEGV" : "";
    return "signal " + std::to_string(sig) + (*name ? std::string(", ") + name : "");
  }
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "unknown status";
}

}  // namespace

void setIsolatedPassHooks(const IsolatedPassHooks& hooks) { g_hooks = hooks; }

std::uint64_t isolatedPassCasualties() { return g_casualties.load(std::memory_order_relaxed); }

void runIsolatedFilePass(const std::vector<std::filesystem::path>& files,
                         const std::function<std::string(const std::filesystem::path&)>& job,
                         const std::function<bool(std::size_t, FileJobResult&&)>& visit,
                         const IsolatedPassOptions& options) {
  if (!options.isolate) {
    for (std::size_t i = 0; i < files.size(); ++i)
      if (!visit(i, runJob(job, files[i]))) return;
    return;
  }
  std::size_t next = 0;
  while (next < files.size()) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw Error(files[next], std::string("cannot start ") + options.job_name + ": " + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw Error(files[next], std::string("cannot start ") + options.job_name + ": " + std::strerror(errno));
    }
    if (pid == 0) {
      ::close(fds[0]);
      childMain(fds[1], files, next, job);
    }
    ::close(fds[1]);
    ChildStream child(pid, fds[0]);
    for (;;) {
      FileJobResult r;
      const auto got = child.next(options.per_file_timeout, r);
      if (got == ChildStream::Got::Record) {
        if (!visit(next++, std::move(r))) return;  // ~ChildStream kills the child
        continue;
      }
      if (next >= files.size()) break;  // all answered; the child is exiting
      // The child died or hung on files[next]: that file fails, the next child
      // starts after it.
      FileJobResult failed;
      if (got == ChildStream::Got::TimedOut) {
        child.finish(true);
        char limit[32];
        std::snprintf(limit, sizeof limit, "%g s", options.per_file_timeout.count() / 1000.0);
        failed.reason = options.job_name + " did not finish within " + limit + " on this file: corrupt header";
      } else {
        failed.reason = options.job_name + " crashed on this file (" + howItDied(child.finish(false)) +
                        "): corrupt header";
      }
      g_casualties.fetch_add(1, std::memory_order_relaxed);
      if (!visit(next++, std::move(failed))) return;
      break;
    }
    if (next >= files.size()) break;
  }
}

}  // namespace ctd
