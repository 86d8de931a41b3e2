#include "core/AtomicFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "core/Error.h"

namespace ctd {

void writeFileAtomically(const std::filesystem::path& target, std::string_view bytes) {
  std::filesystem::create_directories(target.parent_path());
  std::random_device rd;
  const auto tmp = target.parent_path() / ("." + target.filename().string() + ".tmp" + std::to_string(rd()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(target, std::string("cannot create: ") + std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      std::filesystem::remove(tmp);
      throw Error(target, std::string("write failed: ") + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int e = errno;
    std::filesystem::remove(tmp);
    throw Error(target, std::string("write failed: ") + std::strerror(e));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, target, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    throw Error(target, "cannot move into place: " + ec.message());
  }
}

}  // namespace ctd
