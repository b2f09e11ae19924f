#include "util/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace recorder {
namespace {

// A descriptor closed on every way out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status CheckExisting(const std::string& path, const struct stat& st) {
  if (S_ISLNK(st.st_mode)) {
    return Status::Errorf(
        StatusCode::kPermission,
        "{}: is a symbolic link; refusing to write recorded data through it (name the real file)",
        path);
  }
  if (!S_ISREG(st.st_mode))
    return Status::Errorf(StatusCode::kInvalid, "{}: is not a regular file", path);
  if (st.st_uid != geteuid()) {
    return Status::Errorf(
        StatusCode::kPermission,
        "{}: belongs to uid {}, not to uid {} that records; refusing to write recorded data "
        "into another user's file",
        path, st.st_uid, geteuid());
  }
  if ((st.st_mode & 077) != 0 && chmod(path.c_str(), kPrivateFileMode) != 0)
    return Status::FromErrno(errno, fmt::format("{}: cannot make it private (chmod 0600)", path));
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return Status::Errorf(StatusCode::kPermission,
                          "{}: is a symbolic link; refusing to write through it", path);
  const std::string tmp = path + ".tmp";
  unlink(tmp.c_str());  // a leftover of a crash, or somebody's symlink: never written through
  Fd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode));
  if (fd.get() < 0) return Status::FromErrno(errno, fmt::format("cannot write {}", tmp));
  // The umask may have taken bits away, never added them; fchmod makes
  // the mode exact either way.
  if (fchmod(fd.get(), kPrivateFileMode) != 0)
    return Status::FromErrno(errno, fmt::format("cannot chmod {}", tmp));
  for (size_t done = 0; done < contents.size();) {
    const ssize_t n = write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(errno, fmt::format("write to {} failed", tmp));
    done += static_cast<size_t>(n);
  }
  if (fsync(fd.get()) != 0) return Status::FromErrno(errno, fmt::format("fsync of {} failed", tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::FromErrno(errno, fmt::format("cannot rename {} to {}", tmp, path));
  return Status::Ok();
}

Status PreparePrivateFile(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) return CheckExisting(path, st);
  if (errno != ENOENT) return Status::FromErrno(errno, path);
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kPrivateFileMode));
  if (fd.get() < 0) {
    // Created by somebody else in between: check what is there now.
    if (errno == EEXIST && lstat(path.c_str(), &st) == 0) return CheckExisting(path, st);
    return Status::FromErrno(errno, fmt::format("{}: cannot create", path));
  }
  if (fchmod(fd.get(), kPrivateFileMode) != 0)
    return Status::FromErrno(errno, fmt::format("{}: cannot chmod 0600", path));
  return Status::Ok();
}

Status TightenIfPresent(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return Status::Ok();
  return CheckExisting(path, st);
}

Status CreatePrivateDirectories(const std::string& dir) {
  if (dir.empty()) return Status::Ok();
  struct stat st {};
  if (lstat(dir.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return Status::Errorf(StatusCode::kInvalid, "{}: is a symbolic link, not a directory", dir);
    if (!S_ISDIR(st.st_mode))
      return Status::Errorf(StatusCode::kInvalid, "{}: is not a directory", dir);
    return Status::Ok();
  }
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    Status parent = CreatePrivateDirectories(dir.substr(0, slash));
    if (!parent.ok()) return parent;
  }
  if (mkdir(dir.c_str(), kPrivateDirectoryMode) != 0 && errno != EEXIST)
    return Status::FromErrno(errno, fmt::format("{}: cannot create directory", dir));
  // mkdir's mode is masked by the umask, which can only take bits away:
  // 0700 or less. Make it exactly 0700 so the owner can use it.
  if (chmod(dir.c_str(), kPrivateDirectoryMode) != 0)
    return Status::FromErrno(errno, fmt::format("{}: cannot chmod 0700", dir));
  return Status::Ok();
}

int64_t FileSize(const std::string& path) {
  struct stat info {};
  if (path.empty() || stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.st_size);
}

}  // namespace recorder
