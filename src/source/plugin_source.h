// Audit records as auditd (3.x plugins.d) or audispd (2.x) hands them to a
// plugin with `format = string`: one record per line on stdin,
// "type=SYSCALL msg=audit(1700000000.123:42): ...".
//
// ninja's LineReader shape: one reused buffer scanned with memchr; the
// line views are valid during the handler call only. Unlike LineReader
// (src/source/line_reader.h) it never blocks: the caller polls fd() next
// to its signal and timer sources and calls ReadPending() when readable,
// so events still age out and signals are handled while auditd is quiet.
//
// Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "util/status.h"

namespace recorder {

struct PluginStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t too_long = 0;  // lines over the buffer size, skipped
};

class PluginSource {
 public:
  // Reads `fd` (not owned; stdin for a real plugin), set non-blocking.
  // Records longer than `buffer_size` are skipped and counted; auditd's
  // own limit is 8 KiB per record plus enrichment.
  explicit PluginSource(int fd, size_t buffer_size = size_t{256} * 1024);
  ~PluginSource();
  PluginSource(const PluginSource&) = delete;
  PluginSource& operator=(const PluginSource&) = delete;

  int fd() const { return fd_; }

  using LineHandler = std::function<Status(std::string_view line)>;
  enum class Next { kMore, kEnd };
  // Reads what is available (at most a few buffers' worth per call) and
  // hands every complete line to `handler`. kEnd: stdin reached EOF
  // (auditd stopped or closed the pipe); a last line without a newline
  // was handed over too.
  Result<Next> ReadPending(const LineHandler& handler);

  const PluginStats& stats() const { return stats_; }

 private:
  Status Deliver(std::string_view line, const LineHandler& handler);

  int fd_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t begin_ = 0;       // start of unread data
  size_t end_ = 0;         // end of valid data
  bool skipping_ = false;  // inside an over-long line, dropping until newline
  PluginStats stats_;
};

// auto source detection: stdin is a pipe and our parent is auditd or
// audispd (it runs plugins with their stdin connected to it).
bool LaunchedAsAuditPlugin();
// Whether a process named auditd runs (a /proc scan, like pgrep).
bool AuditdRunning();

}  // namespace recorder
