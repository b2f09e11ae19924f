#include "daemon/signal_channel.h"

#include <sys/signalfd.h>
#include <unistd.h>

namespace recorder::daemon {

SignalChannel::SignalChannel() {
  sigemptyset(&mask_);
  sigaddset(&mask_, SIGINT);
  sigaddset(&mask_, SIGTERM);
  sigaddset(&mask_, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask_, &old_mask_);
  fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
  old_pipe_ = signal(SIGPIPE, SIG_IGN);
}

SignalChannel::~SignalChannel() {
  if (fd_ >= 0) close(fd_);
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  signal(SIGPIPE, old_pipe_);
}

int SignalChannel::Next() {
  signalfd_siginfo info{};
  ssize_t n = read(fd_, &info, sizeof(info));
  return n == sizeof(info) ? static_cast<int>(info.ssi_signo) : 0;
}

}  // namespace recorder::daemon
