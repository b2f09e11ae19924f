#include "daemon/run_report.h"

#include <fmt/format.h>

namespace recorder::daemon {

bool RunEnd::is_error() const {
  switch (kind) {
    case RunEndKind::kSignal:
    case RunEndKind::kStopRequest:
    case RunEndKind::kEndOfInput:
      return false;
    case RunEndKind::kStartFailed:
    case RunEndKind::kSourceFailed:
    case RunEndKind::kWriteFailed:
    case RunEndKind::kDisabled:
    case RunEndKind::kInternalError:
      return true;
  }
  return true;
}

std::string RunEnd::Describe() const {
  switch (kind) {
    case RunEndKind::kSignal:
      return detail;
    case RunEndKind::kStopRequest:
      return "recorder stop";
    case RunEndKind::kEndOfInput:
      return "end of input (auditd stopped)";
    case RunEndKind::kStartFailed:
      return fmt::format("start failed: {}", detail);
    case RunEndKind::kSourceFailed:
      return fmt::format("source failed: {}", detail);
    case RunEndKind::kWriteFailed:
      return fmt::format("writing events failed: {}", detail);
    case RunEndKind::kDisabled:
      return fmt::format("disabled: {}", detail);
    case RunEndKind::kInternalError:
      return fmt::format("internal error: {}", detail);
  }
  return detail;
}

void RunOutcome::Record(RunEnd end) {
  if (end.is_error() && !error_) error_ = end;
  if (!stop_) stop_ = std::move(end);
}

store::RunStats LiveRunStats(const LiveRunCounts& counts, const RunOutcome& outcome) {
  store::RunStats stats;
  stats.lines = counts.lines;
  stats.bytes = counts.bytes;
  stats.records = counts.lines - counts.malformed;
  stats.malformed = counts.malformed;
  stats.truncated = counts.truncated;
  stats.audit_events = counts.audit_events;
  stats.partial_events = counts.partial_events;
  stats.ignored_events = counts.ignored_events;
  if (counts.kernel_lost_at_start && counts.kernel_lost_now)
    stats.kernel_lost =
        static_cast<uint32_t>(*counts.kernel_lost_now - *counts.kernel_lost_at_start);
  stats.dropped_backlog = counts.netlink_overruns;
  stats.dropped_queue_full = counts.image_dropped;
  stats.cap_dropped_by_kind = counts.cap_dropped;
  stats.filtered_out_by_kind = counts.filtered_out;
  for (uint64_t dropped : counts.cap_dropped) stats.dropped_queue_full += dropped;
  stats.dropped_other = counts.plugin_too_long + counts.image_overflows + counts.disk_dropped;
  stats.serial_gaps = counts.serial_gaps;
  stats.error = outcome.ErrorText();
  return stats;
}

}  // namespace recorder::daemon
