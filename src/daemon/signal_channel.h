// The stop and reload signals as a file descriptor for the event loop:
// SIGINT/SIGTERM/SIGHUP are blocked and read from a signalfd; SIGPIPE is
// ignored (a control client or the JSON output may go away). The old mask
// and SIGPIPE handler come back on destruction: tests run the daemon
// in-process. Not thread-safe; the mask is the calling thread's.
#pragma once

#include <signal.h>

namespace recorder::daemon {

class SignalChannel {
 public:
  SignalChannel();
  ~SignalChannel();
  SignalChannel(const SignalChannel&) = delete;
  SignalChannel& operator=(const SignalChannel&) = delete;

  // Non-blocking; -1 when signalfd failed (errno says why).
  int fd() const { return fd_; }
  // The next pending signal number, 0 when none.
  int Next();

 private:
  sigset_t mask_{};
  sigset_t old_mask_{};
  int fd_ = -1;
  sighandler_t old_pipe_ = SIG_DFL;
};

}  // namespace recorder::daemon
