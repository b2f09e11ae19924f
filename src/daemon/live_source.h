// The audit source of a live run — netlink (unicast: the recorder is the
// kernel's audit daemon; multicast: read-only next to auditd) or auditd's
// plugin stdin — and the kernel's audit status as seen from it: at the
// start, at each check, at the end.
//
// Not thread-safe: the event loop's thread owns it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "config/config.h"
#include "parse/audit_record.h"
#include "pipeline/pipeline.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"
#include "source/serial_gaps.h"
#include "util/status.h"

namespace recorder::daemon {

class LiveSource {
 public:
  // Opens `kind` (kUnicast, kMulticast or kPlugin; ResolveSource decides
  // kAuto) after reading the audit status it starts from. The plugin reads
  // `stdin_fd` (not owned).
  static Result<std::unique_ptr<LiveSource>> Open(config::AuditSource kind,
                                                  const config::RecorderConfig& config,
                                                  int stdin_fd);
  // Close() when it was not called; a failure is logged.
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  int fd() const;
  config::AuditSource kind() const { return kind_; }
  bool is_netlink() const { return netlink_ != nullptr; }
  // The netlink socket's receive buffer (SO_RCVBUF); 0 for the plugin.
  int64_t receive_buffer_bytes() const { return netlink_ ? netlink_->receive_buffer_bytes() : 0; }

  // One read of what is pending, fed to `pipeline`. The source's own
  // failure and the pipeline's (its sinks refused events) are told apart:
  // the run's end names the one that failed.
  struct ReadOutcome {
    bool end_of_input = false;  // the plugin's stdin ended
    size_t records = 0;         // records read
    bool drained = false;       // netlink: the socket was read empty
    Status source_error;
    Status write_error;
  };
  ReadOutcome Read(Pipeline* pipeline, int64_t now_wall);

  // The periodic status check: logs records the kernel lost since the
  // last check, and — on every check, nothing is recorded meanwhile — that
  // another process took the audit connection. A failed read is logged.
  void CheckStatus();
  // Reads the status once more (the run's final kernel_lost) and counts
  // the serial holes still open as lost (no record comes any more); a
  // failure is logged and the last status stays.
  void RefreshStatus();
  // Closes the netlink socket (unicast puts enabled and the backlog back)
  // and restores the backlog settings RuleManager::Install changed for
  // the other sources. Idempotent. The error is the audit status that
  // could not be restored; the backlog is only logged.
  Status Close();

  const std::optional<AuditStatus>& status_at_start() const { return status_at_start_; }
  const std::optional<AuditStatus>& last_status() const { return last_status_; }
  // Records the source dropped: netlink overruns, plugin lines too long.
  uint64_t netlink_overruns() const { return netlink_ ? netlink_->stats().overruns : 0; }
  uint64_t plugin_too_long() const { return plugin_ ? plugin_->stats().too_long : 0; }
  uint64_t drops() const { return netlink_overruns() + plugin_too_long(); }
  // Audit serials that never arrived on the netlink source
  // (source/serial_gaps.h); 0 for the plugin, whose auditd may filter.
  uint64_t serial_gaps() const { return serials_.lost(); }
  bool unicast() const { return netlink_ && netlink_->mode() == NetlinkMode::kUnicast; }
  bool pid_lost() const { return netlink_ && netlink_->pid_lost(); }
  uint32_t holder_pid() const { return netlink_ ? netlink_->holder_pid() : 0; }

 private:
  explicit LiveSource(config::AuditSource kind) : kind_(kind) {}
  void RestoreBacklog();

  config::AuditSource kind_;
  std::unique_ptr<NetlinkSource> netlink_;
  std::unique_ptr<PluginSource> plugin_;
  std::optional<AuditStatus> status_at_start_;
  std::optional<AuditStatus> last_status_;
  SerialGapCounter serials_;
  AuditRecord header_;  // scratch for the serial of each netlink record
  bool closed_ = false;
};

}  // namespace recorder::daemon
