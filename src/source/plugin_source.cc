#include "source/plugin_source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

namespace recorder {
namespace {

// Bounds the work per call so a flood cannot starve the caller's loop.
constexpr int kMaxReadsPerCall = 16;

std::string ReadComm(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  std::getline(file, comm);
  return comm;
}

}  // namespace

PluginSource::PluginSource(int fd, size_t buffer_size)
    : fd_(fd), buffer_(std::make_unique<char[]>(buffer_size)), capacity_(buffer_size) {
  int flags = fcntl(fd_, F_GETFL);
  if (flags >= 0) (void)fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

PluginSource::~PluginSource() = default;

Status PluginSource::Deliver(std::string_view line, const LineHandler& handler) {
  ++stats_.lines;
  stats_.bytes += line.size() + 1;
  return handler(line);
}

Result<PluginSource::Next> PluginSource::ReadPending(const LineHandler& handler) {
  for (int reads = 0; reads < kMaxReadsPerCall; ++reads) {
    // Keep unread data at the front so a partial line can grow.
    if (begin_ > 0) {
      std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == capacity_) {
      // A line as long as the buffer: skip it to its newline.
      if (!skipping_) ++stats_.too_long;
      skipping_ = true;
      end_ = 0;
    }
    ssize_t n = read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Next::kMore;
      return Status::FromErrno(errno, "reading audit records from stdin failed");
    }
    if (n == 0) {
      if (!skipping_ && end_ > begin_) {
        Status status = Deliver(std::string_view(buffer_.get() + begin_, end_ - begin_), handler);
        if (!status.ok()) return status;
      }
      begin_ = end_ = 0;
      return Next::kEnd;
    }
    size_t scan = end_;
    end_ += static_cast<size_t>(n);
    for (;;) {
      char* start = buffer_.get() + scan;
      auto* newline = static_cast<char*>(std::memchr(start, '\n', end_ - scan));
      if (!newline) break;
      size_t line_end = static_cast<size_t>(newline - buffer_.get());
      if (skipping_) {
        skipping_ = false;
      } else {
        Status status =
            Deliver(std::string_view(buffer_.get() + begin_, line_end - begin_), handler);
        if (!status.ok()) return status;
      }
      begin_ = scan = line_end + 1;
    }
  }
  return Next::kMore;
}

bool LaunchedAsAuditPlugin() {
  struct stat info {};
  if (fstat(STDIN_FILENO, &info) != 0 || !S_ISFIFO(info.st_mode)) return false;
  std::string parent = ReadComm(getppid());
  return parent == "auditd" || parent == "audispd";
}

bool AuditdRunning() {
  DIR* proc = opendir("/proc");
  if (!proc) return false;
  bool found = false;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (ReadComm(static_cast<pid_t>(pid)) == "auditd") {
      found = true;
      break;
    }
  }
  closedir(proc);
  return found;
}

}  // namespace recorder
