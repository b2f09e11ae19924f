// The running daemon's control channel: a unix stream socket (0600, in a
// root-only directory) taking one-line requests ("status", "stop") and
// answering with one line of JSON. Plus the pid file next to it.
//
// The server side is non-blocking and driven by the daemon's poll loop;
// the client side is for `recorder status`/`stop` and blocks with a
// timeout. Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder::daemon {

class ControlServer {
 public:
  // Creates the parent directory (0700) when missing, replaces a stale
  // socket file, and listens. Fails when another live daemon answers on
  // `path`.
  static Result<std::unique_ptr<ControlServer>> Listen(const std::string& path);
  // Closes the socket and unlinks its file.
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  int fd() const { return fd_; }

  // Answers `request` (without its newline) with one line; must not block.
  using Handler = std::function<std::string(std::string_view request)>;
  // Accepts pending clients and answers each. A client that sends nothing
  // within a short time is dropped, so one stuck client cannot stall the
  // recorder for long.
  void ServePending(const Handler& handler);

 private:
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Sends `request` and returns the one-line answer. An error when nothing
// listens (the daemon is not running: kNotFound, or kUnavailable for a
// refused connection to a stale socket), the caller may not reach the socket
// (kPermission: it lives in a root-only directory) or the daemon does not
// answer in time (kUnavailable).
Result<std::string> ControlRequest(const std::string& path, std::string_view request,
                                   int timeout_ms = 5000);

// Pid file: written after the daemon is up, removed on exit. ReadPidFile
// returns 0 when the file is missing, unreadable or names a dead process.
Status WritePidFile(const std::string& path);
void RemovePidFile(const std::string& path);
int ReadLivePid(const std::string& path);

// Creates `dir` and missing parents; the last component gets `mode`.
Status MakeDirs(const std::string& dir, unsigned mode);

}  // namespace recorder::daemon
