#include "write/FileCopy.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "core/Error.h"

namespace ctd {
namespace {

constexpr std::size_t kBuffer = std::size_t{1} << 20;

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void copyFileBytes(const std::filesystem::path& from, const std::filesystem::path& to) {
  const auto fail = [&](const std::string& what, int e) {
    throw Error(from, what + " " + to.filename().string() + " in the output: " + std::strerror(e));
  };
  Fd in{::open(from.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) throw Error(from, std::string("cannot open: ") + std::strerror(errno));
  Fd out{::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (out.fd < 0) fail("cannot create", errno);
  // In the kernel first: no user-space buffer to fill and copy through (a
  // series is hundreds of these). sendfile reports ENOSPC / EFBIG like write.
  bool copied = false;
  for (off_t offset = 0;;) {
    const ssize_t n = ::sendfile(out.fd, in.fd, &offset, std::size_t{1} << 30);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EINVAL || errno == ENOSYS) && offset == 0) break;  // not supported here: read/write
    if (n < 0 && (errno == ENOSPC || errno == EFBIG || errno == EDQUOT)) fail("cannot write", errno);
    if (n < 0) fail("cannot copy to", errno);
    if (n == 0) {
      copied = true;
      break;
    }
  }
  std::unique_ptr<char[]> buf(copied ? nullptr : new char[kBuffer]);  // left uninitialised: read() fills it
  for (; !copied;) {
    const ssize_t n = ::read(in.fd, buf.get(), kBuffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(from, std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out.fd, buf.get() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("cannot write", errno);
      done += w;
    }
  }
  if (::close(out.fd) != 0) {
    out.fd = -1;
    fail("cannot write", errno);
  }
  out.fd = -1;
}

}  // namespace ctd
