// DatabaseErrorWaitMinutes: when monitor.db cannot be created or opened,
// the recorder waits that long before it tries again, rather than retrying
// in a loop that burns the CPU and floods the log. Pure: time comes in as
// an argument.
#pragma once

#include <algorithm>
#include <cstdint>

#include "util/status.h"

namespace recorder::daemon {

class DatabaseRetry {
 public:
  // The manual's bounds allow 0 minutes; even then attempts are this far
  // apart, so the wait never becomes a spin.
  static constexpr int64_t kMinWaitMs = 10'000;

  explicit DatabaseRetry(int wait_minutes)
      : wait_ms_(std::max<int64_t>(int64_t{wait_minutes} * 60'000, kMinWaitMs)) {}

  // Failures a later attempt may not have: the file system (a missing
  // directory, a mount not there yet, a full or failing disk), the
  // permissions, a lock another process holds. A file that is not ours,
  // a newer schema or a refused symlink (kUnknown, kInvalid, kCorrupt)
  // need a person: the start fails at once and says why.
  static bool Retryable(const Status& status) {
    switch (status.code()) {
      case StatusCode::kNotFound:
      case StatusCode::kIo:
      case StatusCode::kNoSpace:
      case StatusCode::kPermission:
      case StatusCode::kBusy:
      case StatusCode::kUnavailable:
        return true;
      default:
        return false;
    }
  }

  // An attempt at `now_ms` (monotonic) failed: the next is due a wait later.
  void Failed(int64_t now_ms) {
    ++failures_;
    next_attempt_ms_ = now_ms + wait_ms_;
  }
  bool Due(int64_t now_ms) const { return now_ms >= next_attempt_ms_; }
  int64_t next_attempt_ms() const { return next_attempt_ms_; }
  int64_t wait_ms() const { return wait_ms_; }
  int failures() const { return failures_; }

 private:
  int64_t wait_ms_;
  int64_t next_attempt_ms_ = 0;  // due at once before the first failure
  int failures_ = 0;
};

}  // namespace recorder::daemon
