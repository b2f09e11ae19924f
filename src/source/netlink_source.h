// Live audit records straight from the kernel over NETLINK_AUDIT, in one
// of two ways:
//  - unicast: the recorder becomes the audit daemon (the kernel sends every
//    record to the one registered pid). Exclusive: fails when auditd or
//    another daemon holds the pid. On Close() the previous status (enabled
//    flag, pid, backlog settings) is put back, except the enabled flag when
//    another daemon took over the pid meanwhile (it relies on it).
//  - multicast: a read-only listener on AUDIT_NLGRP_READLOG (needs
//    CAP_AUDIT_READ). Coexists with auditd; best effort (the kernel drops
//    when our socket is full, which we count).
//
// Not thread-safe: one owner polls fd() and calls ReadPending().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder {

// The kernel's audit status (`auditctl -s`).
struct AuditStatus {
  uint32_t enabled = 0;  // 0 off, 1 on, 2 immutable
  uint32_t failure = 0;
  uint32_t pid = 0;  // the registered audit daemon, 0 when none
  uint32_t rate_limit = 0;
  uint32_t backlog_limit = 0;
  uint32_t lost = 0;  // records the kernel dropped since boot
  uint32_t backlog = 0;
  uint32_t backlog_wait_time = 0;
};

// One request/reply socket for audit control messages (separate from the
// record socket so replies never interleave with records).
class NetlinkControl {
 public:
  static Result<std::unique_ptr<NetlinkControl>> Open();
  ~NetlinkControl();
  NetlinkControl(const NetlinkControl&) = delete;
  NetlinkControl& operator=(const NetlinkControl&) = delete;

  Result<AuditStatus> GetStatus();
  Status SetEnabled(uint32_t enabled);
  Status SetBacklog(std::optional<uint32_t> limit, std::optional<uint32_t> wait_time);
  // Unregisters `pid` as the audit daemon only if it still is (the kernel
  // lets only the current daemon unregister itself; we send pid 0 from the
  // owning process).
  Status ClearPid();

 private:
  explicit NetlinkControl(int fd) : fd_(fd) {}
  int fd_;
  uint32_t sequence_ = 0;
};

// Reads the audit status with a short-lived control socket.
Result<AuditStatus> ReadAuditStatus();

enum class NetlinkMode { kUnicast, kMulticast };
std::string_view NetlinkModeName(NetlinkMode mode);

struct NetlinkOptions {
  NetlinkMode mode = NetlinkMode::kUnicast;
  // SO_RCVBUF(FORCE): bursts of exec-heavy workloads produce thousands of
  // records per second; a large buffer rides them out.
  int receive_buffer_bytes = 16 << 20;
  // Unicast only: applied after registering, restored on Close(). Unset
  // keeps the kernel's value.
  std::optional<uint32_t> backlog_limit;
  std::optional<uint32_t> backlog_wait_time;
  // Unicast only: turn auditing on (enabled=1) while we run.
  bool enable = true;
};

struct NetlinkStats {
  uint64_t messages = 0;  // records handed to the handler
  uint64_t bytes = 0;
  uint64_t overruns = 0;          // ENOBUFS: the socket overflowed, records lost
  uint64_t control_messages = 0;  // acks and replies, not records
  uint64_t receive_calls = 0;     // recvmmsg calls, each reading up to a batch of records
  uint64_t truncated = 0;         // datagrams larger than a receive slot (cut)
};

class NetlinkSource {
 public:
  // Unicast: reads the status first and refuses, naming the holder, when
  // another process is the audit daemon.
  static Result<std::unique_ptr<NetlinkSource>> Open(const NetlinkOptions& options);
  // Calls Close() when it was not called.
  ~NetlinkSource();  // NOLINT(bugprone-exception-escape): see its definition
  NetlinkSource(const NetlinkSource&) = delete;
  NetlinkSource& operator=(const NetlinkSource&) = delete;

  // Non-blocking socket to poll for POLLIN.
  int fd() const { return fd_; }
  NetlinkMode mode() const { return options_.mode; }
  // SO_RCVBUF as the kernel reports it (twice what was granted: it counts
  // its bookkeeping too); 0 when unknown.
  int receive_buffer_bytes() const { return receive_buffer_bytes_; }

  // `type` is the record type (nlmsg_type), `body` the text after the
  // netlink header ("audit(SEC.MSEC:SERIAL): fields"). The view is valid
  // during the call only.
  using RecordHandler = std::function<Status(int type, std::string_view body)>;
  // Reads until the socket would block (or `max_messages` were read so
  // a flood cannot starve the rest of the loop), a batch of records per
  // syscall. A handler error stops reading and is returned.
  Status ReadPending(const RecordHandler& handler, int max_messages = 4096);
  // The last ReadPending found the socket empty (not stopped by
  // max_messages or an error).
  bool drained() const { return drained_; }

  // Unicast: re-reads the audit status and says whether we are still the
  // audit daemon. Once another process took over, that stays recorded in
  // pid_lost()/holder_pid(). Multicast: just the status.
  Result<AuditStatus> CheckStatus();
  bool pid_lost() const { return pid_lost_; }
  uint32_t holder_pid() const { return holder_pid_; }
  const AuditStatus& status_before() const { return before_; }
  const NetlinkStats& stats() const { return stats_; }

  // Unicast: unregisters and restores enabled/backlog as they were before
  // Open(). Idempotent.
  Status Close();

 private:
  NetlinkSource() = default;
  Status OpenUnicast();
  Status OpenMulticast();

  NetlinkOptions options_;
  int fd_ = -1;
  std::unique_ptr<NetlinkControl> control_;
  AuditStatus before_;
  bool registered_ = false;
  bool changed_enabled_ = false;
  bool changed_backlog_ = false;
  bool pid_lost_ = false;
  uint32_t holder_pid_ = 0;
  NetlinkStats stats_;
  bool drained_ = false;
  int receive_buffer_bytes_ = 0;
  std::unique_ptr<char[]> buffer_;  // kReceiveSlots slots for recvmmsg
};

}  // namespace recorder
