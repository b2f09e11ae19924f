#include "util/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace recorder {

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return Status::FromErrno(errno, fmt::format("cannot write {}", tmp));
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return Status::FromErrno(error, fmt::format("write to {} failed", tmp));
    }
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0) return Status::FromErrno(errno, fmt::format("write to {} failed", tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::FromErrno(errno, fmt::format("cannot rename {} to {}", tmp, path));
  return Status::Ok();
}

}  // namespace recorder
