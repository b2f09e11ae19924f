#include "daemon/control_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace recorder::daemon {
namespace {

constexpr int kClientReadTimeoutMs = 200;
constexpr size_t kMaxRequest = 256;

Result<sockaddr_un> SocketAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path))
    return Status::Errorf("control socket path too long: {}", path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// Writes all of `data`, giving up after the timeout.
bool WriteAll(int fd, std::string_view data, int timeout_ms) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd poll_fd{fd, POLLOUT, 0};
      if (poll(&poll_fd, 1, timeout_ms) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Reads until a newline (or EOF); false on timeout or error.
bool ReadLine(int fd, std::string* line, size_t limit, int timeout_ms) {
  char buffer[4096];
  for (;;) {
    size_t newline = line->find('\n');
    if (newline != std::string::npos) {
      line->resize(newline);
      return true;
    }
    if (line->size() > limit) return false;
    pollfd poll_fd{fd, POLLIN, 0};
    int ready = poll(&poll_fd, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return false;
    if (n == 0) return !line->empty();
    line->append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

Status MakeDirs(const std::string& dir, unsigned mode) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::Errorf("cannot create {}: {}", dir, error.message());
  if (chmod(dir.c_str(), mode) != 0)
    return Status::Errorf("cannot chmod {}: {}", dir, std::strerror(errno));
  return Status::Ok();
}

Result<std::unique_ptr<ControlServer>> ControlServer::Listen(const std::string& path) {
  Result<sockaddr_un> address = SocketAddress(path);
  if (!address.ok()) return address.status();
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) {
    // Root-only: the socket can stop the recorder and read its status.
    Status made = MakeDirs(dir, 0700);
    if (!made.ok()) return made;
  }
  if (ControlRequest(path, "ping", 1000).ok())
    return Status::Errorf("a recorder is already running (it answers on {})", path);
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Errorf("cannot create the control socket: {}", std::strerror(errno));
  // The umask makes the socket 0600 from its creation on, no window.
  mode_t old_umask = umask(0177);
  int bound = bind(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(sockaddr_un));
  int bind_errno = errno;
  umask(old_umask);
  if (bound != 0 || listen(fd, 8) != 0) {
    int error = bound != 0 ? bind_errno : errno;
    close(fd);
    return Status::Errorf("cannot listen on {}: {}", path, std::strerror(error));
  }
  return std::unique_ptr<ControlServer>(new ControlServer(fd, path));
}

ControlServer::~ControlServer() {
  close(fd_);
  unlink(path_.c_str());
}

void ControlServer::ServePending(const Handler& handler) {
  for (;;) {
    int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN: no more clients; other errors: try again next poll
    }
    std::string request;
    if (ReadLine(client, &request, kMaxRequest, kClientReadTimeoutMs)) {
      std::string answer = handler(request);
      answer += '\n';
      // The client gave up waiting (its own timeout): nobody to tell but the log.
      if (!WriteAll(client, answer, kClientReadTimeoutMs))
        spdlog::warn("control: the answer to '{}' was not taken by the client", request);
    }
    close(client);
  }
}

Result<std::string> ControlRequest(const std::string& path, std::string_view request,
                                   int timeout_ms) {
  Result<sockaddr_un> address = SocketAddress(path);
  if (!address.ok()) return address.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Errorf("cannot create a socket: {}", std::strerror(errno));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(sockaddr_un)) != 0) {
    int error = errno;
    close(fd);
    // The code tells "nothing listens" (not found, refused) from "not
    // allowed to ask" (permission): `status` and `stop` say which.
    return Status::Errorf(StatusCodeFromErrno(error), "no recorder answers on {}: {}", path,
                          std::strerror(error));
  }
  std::string line(request);
  line += '\n';
  std::string answer;
  bool ok = WriteAll(fd, line, timeout_ms) && ReadLine(fd, &answer, 1 << 20, timeout_ms);
  close(fd);
  if (!ok)
    return Status::Errorf(StatusCode::kUnavailable, "the recorder on {} did not answer in time",
                          path);
  return answer;
}

Status WritePidFile(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty()) {
    Status made = MakeDirs(dir, 0700);
    if (!made.ok()) return made;
  }
  std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << getpid() << '\n';
    if (!out) return Status::Errorf("cannot write {}", temp);
  }
  if (rename(temp.c_str(), path.c_str()) != 0)
    return Status::Errorf("cannot write {}: {}", path, std::strerror(errno));
  return Status::Ok();
}

void RemovePidFile(const std::string& path) {
  // Only our own: a second instance that failed to start must not remove
  // the running one's file.
  std::ifstream in(path);
  int pid = 0;
  if (in >> pid && pid == getpid()) unlink(path.c_str());
}

int ReadLivePid(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  if (kill(pid, 0) != 0 && errno == ESRCH) return 0;
  return pid;
}

}  // namespace recorder::daemon
