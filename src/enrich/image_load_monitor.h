// MonitorImageLoad (default off): which shared libraries each process
// loads, from fanotify. See docs/enrichment.md for why fanotify and not
// audit (audit's mmap records carry an fd, never a path).
//
// Two kinds of marks:
//   - FAN_OPEN_EXEC on whole filesystems ("/" by default; mount mark when
//     the kernel refuses a filesystem mark): every execve'd binary and its
//     ELF interpreter (ld-linux), and uselib().
//   - FAN_OPEN on the library directories (FAN_EVENT_ON_CHILD, direct
//     children only): ld.so and dlopen() open libraries with a plain
//     open(O_RDONLY), which FAN_OPEN_EXEC does not report. An opened file
//     counts as a library only if it is an ELF shared object (ET_DYN).
// Each event carries the opener's pid and an fd whose /proc/self/fd link
// is the path. Needs CAP_SYS_ADMIN; notification class only, so the
// opener is never blocked. Overflow of the kernel queue is counted.
//
// The thread lives here (an edge module); Take() hands records to the
// event path.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/status.h"

namespace recorder::enrich {

enum class ImageKind : uint8_t {
  kExecutable,  // the program an execve ran (the audit exec event has it too)
  kLibrary,     // a shared object or the ELF interpreter
};

struct ImageLoad {
  int64_t time_ms = 0;  // when the monitor read the event
  int32_t pid = 0;      // the opener (thread group id)
  std::string path;
  ImageKind kind = ImageKind::kLibrary;
};

struct ImageLoadMonitorOptions {
  bool enabled = false;  // MonitorImageLoad
  // FAN_OPEN_EXEC marks (execve'd binaries, interpreters).
  std::vector<std::string> exec_filesystems = {"/"};
  // FAN_OPEN marks on directories whose direct children are libraries.
  // Empty = DefaultLibraryDirs().
  std::vector<std::string> library_dirs;
  bool report_executables = false;
  size_t queue_capacity = 16384;  // undelivered records; oldest dropped (counted)
};

struct ImageLoadStats {
  uint64_t events = 0;     // fanotify events read
  uint64_t libraries = 0;  // records produced
  uint64_t executables = 0;
  uint64_t not_library = 0;  // FAN_OPEN of a non-ELF / non-ET_DYN file
  uint64_t overflows = 0;    // FAN_Q_OVERFLOW: the kernel dropped events
  uint64_t dropped = 0;      // our queue was full
  uint64_t marks_failed = 0;
};

// Standard loader directories that exist here (multiarch included).
std::vector<std::string> DefaultLibraryDirs();

class ImageLoadMonitor {
 public:
  explicit ImageLoadMonitor(ImageLoadMonitorOptions options = {});
  ~ImageLoadMonitor();  // Stop()s
  ImageLoadMonitor(const ImageLoadMonitor&) = delete;
  ImageLoadMonitor& operator=(const ImageLoadMonitor&) = delete;

  // Whether fanotify can be used here (root / CAP_SYS_ADMIN, kernel 5.0+).
  static bool Available();

  // With enabled = false: Ok and nothing is watched. Errors when fanotify
  // is unavailable or no mark could be placed.
  Status Start();
  void Stop();
  bool running() const { return thread_.joinable(); }

  // Records since the last call, oldest first. Thread-safe.
  std::vector<ImageLoad> Take();
  ImageLoadStats stats() const;

 private:
  void Run();
  void Handle(int32_t pid, int fd, uint64_t mask);

  ImageLoadMonitorOptions options_;
  int fanotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread for Stop()
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<ImageLoad> queue_;  // guarded by mutex_
  ImageLoadStats stats_;         // guarded by mutex_
};

}  // namespace recorder::enrich
