#include "daemon/live_source.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

#include "parse/record_parser.h"
#include "util/clock.h"

namespace recorder::daemon {

using config::AuditSource;

Result<std::unique_ptr<LiveSource>> LiveSource::Open(AuditSource kind,
                                                     const config::RecorderConfig& config,
                                                     int stdin_fd) {
  std::unique_ptr<LiveSource> source(new LiveSource(kind));
  Result<AuditStatus> before = ReadAuditStatus();
  if (!before.ok()) return before.status();
  source->status_at_start_ = *before;
  source->last_status_ = *before;
  if (kind == AuditSource::kPlugin) {
    source->plugin_ = std::make_unique<PluginSource>(stdin_fd);
    return source;
  }
  NetlinkOptions netlink_options;
  netlink_options.mode =
      kind == AuditSource::kMulticast ? NetlinkMode::kMulticast : NetlinkMode::kUnicast;
  netlink_options.backlog_limit = config.backlog_limit;
  netlink_options.backlog_wait_time = config.backlog_wait_time;
  Result<std::unique_ptr<NetlinkSource>> netlink = NetlinkSource::Open(netlink_options);
  if (!netlink.ok()) {
    // Nothing changed in the kernel yet: nothing to put back.
    source->closed_ = true;
    return netlink.status();
  }
  source->netlink_ = std::move(*netlink);
  if (kind == AuditSource::kMulticast && before->enabled == 0)
    spdlog::warn(
        "kernel auditing is off (enabled 0): the multicast source sees nothing until "
        "auditd or 'auditctl -e 1' turns it on");
  return source;
}

LiveSource::~LiveSource() {
  try {
    Status closed = Close();
    if (!closed.ok())
      spdlog::error("the kernel's audit settings may differ from before the recorder started: {}",
                    closed.message());
  } catch (...) {
    // A destructor must not throw; what could throw here is logging.
  }
}

int LiveSource::fd() const { return netlink_ ? netlink_->fd() : plugin_->fd(); }

LiveSource::ReadOutcome LiveSource::Read(Pipeline* pipeline, int64_t now_wall) {
  ReadOutcome outcome;
  if (netlink_) {
    const int64_t now_steady = MonotonicMs();
    Status read = netlink_->ReadPending([&](int type, std::string_view body) {
      ++outcome.records;
      if (ParseRecordBodyHeader(type, body, &header_) == ParseError::kNone)
        serials_.Note(header_.serial, now_steady);
      outcome.write_error = pipeline->FeedBody(type, body, now_wall);
      return outcome.write_error;
    });
    // A handler error comes back as the read's: it is the pipeline's.
    if (!read.ok() && outcome.write_error.ok()) outcome.source_error = std::move(read);
    outcome.drained = netlink_->drained();
    return outcome;
  }
  Result<PluginSource::Next> next = plugin_->ReadPending([&](std::string_view line) {
    ++outcome.records;
    outcome.write_error = pipeline->FeedLine(line, now_wall);
    return outcome.write_error;
  });
  if (!next.ok()) {
    if (outcome.write_error.ok()) outcome.source_error = next.status();
    return outcome;
  }
  outcome.end_of_input = *next == PluginSource::Next::kEnd;
  return outcome;
}

void LiveSource::CheckStatus() {
  const uint64_t lost_before = serials_.lost();
  serials_.Expire(MonotonicMs());
  if (serials_.lost() > lost_before)
    spdlog::warn(
        "{} audit records never reached the recorder (gaps in the audit serials); total {}",
        serials_.lost() - lost_before, serials_.lost());
  Result<AuditStatus> status = netlink_ ? netlink_->CheckStatus() : ReadAuditStatus();
  if (!status.ok()) {
    spdlog::warn("reading the audit status failed: {}", status.status().message());
    return;
  }
  if (last_status_ && status->lost > last_status_->lost) {
    spdlog::warn("the kernel lost {} audit records (backlog full or rate limit); total lost {}",
                 status->lost - last_status_->lost, status->lost);
  }
  last_status_ = *status;
  if (netlink_ && netlink_->pid_lost()) {
    // Loud on every check: nothing is being recorded until someone acts.
    spdlog::error(
        "LOST THE AUDIT CONNECTION: {} is now the kernel's audit daemon; this recorder receives "
        "no records (stop the other daemon and restart, or use --source multicast)",
        status->pid == 0 ? std::string("no process") : fmt::format("pid {}", status->pid));
  }
}

void LiveSource::RefreshStatus() {
  serials_.Finish();
  Result<AuditStatus> now = ReadAuditStatus();
  if (!now.ok()) {
    spdlog::warn("reading the final audit status failed (kernel_lost is as of the last check): {}",
                 now.status().message());
    return;
  }
  last_status_ = *now;
}

Status LiveSource::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  Status result = Status::Ok();
  if (netlink_) {
    result = netlink_->Close();
    if (!result.ok()) spdlog::error("restoring the audit status failed: {}", result.message());
  }
  // Unicast's Close put the backlog back already.
  if (kind_ != AuditSource::kUnicast) RestoreBacklog();
  return result;
}

void LiveSource::RestoreBacklog() {
  if (!status_at_start_) return;
  Result<std::unique_ptr<NetlinkControl>> control = NetlinkControl::Open();
  if (!control.ok()) {
    spdlog::warn("restoring the kernel backlog settings failed: {}", control.status().message());
    return;
  }
  Result<AuditStatus> now = (*control)->GetStatus();
  if (!now.ok()) {
    spdlog::warn("restoring the kernel backlog settings failed: {}", now.status().message());
    return;
  }
  if (now->backlog_limit == status_at_start_->backlog_limit &&
      now->backlog_wait_time == status_at_start_->backlog_wait_time)
    return;
  Status restored =
      (*control)->SetBacklog(status_at_start_->backlog_limit, status_at_start_->backlog_wait_time);
  if (!restored.ok())
    spdlog::warn("restoring the kernel backlog settings failed: {}", restored.message());
}

}  // namespace recorder::daemon
