// Test helper: polls a condition until it holds or a deadline passes.
// Tests wait for a state, not for a fixed time: a loaded CI host
// (sanitizer builds, two tests at once on two cores) then only makes the
// wait longer, and the deadline bounds a test that fails.
// Also here: states of threads and processes that tests wait for.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <thread>

namespace recorder {

// True as soon as `condition()` is; false if it still is not after
// `timeout`. `poll` is the pause between looks.
inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

// True when thread `tid` of this process is asleep (state S in
// /proc/self/task/TID/stat): blocked on a lock, a condition variable or
// I/O, not running or runnable.
inline bool ThreadSleeping(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "TID (comm) S ...": the comm may hold spaces and parentheses.
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'S';
}

// What the file descriptor `fd` of process `pid` is, as /proc shows it
// ("pipe:[1234]", a path); "" when unknown. Both ends of a pipe show the
// same.
inline std::string FileOfDescriptor(pid_t pid, int fd) {
  std::error_code error;
  std::filesystem::path link = std::filesystem::read_symlink(
      "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd), error);
  return error ? "" : link.string();
}

// True when a thread of process `pid` is blocked in read() on `file` (as
// FileOfDescriptor names it): it used all the input it had and waits for
// more. /proc/PID/task/TID/syscall shows the system call a blocked thread
// is in and its arguments (the first: the descriptor, in hex).
inline bool BlockedReading(pid_t pid, const std::string& file) {
  std::error_code error;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", error)) {
    std::ifstream in(task.path() / "syscall");
    long number = -1;
    std::string fd_hex;
    if (!(in >> number >> fd_hex) || number != SYS_read) continue;
    const int fd = static_cast<int>(std::stol(fd_hex, nullptr, 16));
    if (FileOfDescriptor(pid, fd) == file) return true;
  }
  return false;
}

}  // namespace recorder
