// How a live run ended, and the `runs` row that says so (docs/schema.md).
//
// Which endings are errors — runs.error is set, `recorder run` exits
// non-zero:
//   - start failed: the run's row exists (the database opened) but a later
//     step of the start did not (the JSON output, the source, the rules);
//   - source failed: reading the audit source failed (netlink, or the
//     plugin's stdin returned an error — not its end);
//   - writing events failed: the database (or the JSON output) refused
//     events; recording stops rather than lose events without a trace;
//   - disabled: a limit switched recording off (the CPU kill switch, the
//     hard storage limit) until someone starts it by hand;
//   - internal error: the event loop's poll failed, or an exception.
// Clean endings leave runs.error NULL: SIGINT/SIGTERM, `recorder stop`, and
// the end of the plugin's stdin (auditd stopped).
//
// Pure: nothing here reads a clock or the kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "store/event_store.h"

namespace recorder::daemon {

enum class RunEndKind {
  kSignal,         // detail: "SIGINT" / "SIGTERM"
  kStopRequest,    // `recorder stop`
  kEndOfInput,     // the plugin's stdin ended
  kStartFailed,    // detail: why
  kSourceFailed,   // detail: the source's error
  kWriteFailed,    // detail: the sink's error
  kDisabled,       // detail: the limit's reason
  kInternalError,  // detail: what failed
};

struct RunEnd {
  RunEndKind kind = RunEndKind::kSignal;
  std::string detail;

  bool is_error() const;
  // One line: "SIGTERM", "recorder stop", "end of input (auditd stopped)",
  // "source failed: ...", "disabled: ...".
  std::string Describe() const;
};

// The ways one run ends, as they happen: the first decides why the loop
// stops; the first error — even one after a clean stop, such as the last
// flush failing after SIGTERM — is what runs.error says.
class RunOutcome {
 public:
  void Record(RunEnd end);

  bool ended() const { return stop_.has_value(); }
  const std::optional<RunEnd>& stop() const { return stop_; }
  const std::optional<RunEnd>& error() const { return error_; }
  // For the log's "stopped (...)"; empty while running.
  std::string StopReason() const { return stop_ ? stop_->Describe() : ""; }
  // runs.error: empty when the run had no error.
  std::string ErrorText() const { return error_ ? error_->Describe() : ""; }

 private:
  std::optional<RunEnd> stop_;
  std::optional<RunEnd> error_;
};

// What a live run counted, from the pipeline, the source and the image
// monitor; plain numbers so the mapping below is tested without them.
struct LiveRunCounts {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t malformed = 0;
  uint64_t truncated = 0;
  uint64_t audit_events = 0;
  uint64_t partial_events = 0;
  uint64_t ignored_events = 0;
  // The kernel's `lost` counter at the start and now (both known or no
  // kernel_lost).
  std::optional<uint32_t> kernel_lost_at_start;
  std::optional<uint32_t> kernel_lost_now;
  uint64_t netlink_overruns = 0;  // the socket overflowed
  uint64_t plugin_too_long = 0;   // plugin lines over the size limit
  uint64_t image_dropped = 0;     // library loads our queue dropped
  uint64_t image_overflows = 0;   // ... the kernel's fanotify queue dropped
  uint64_t serial_gaps = 0;       // audit serials that never arrived (netlink)
  // Events PendingEventCap dropped, by EventKindName index.
  std::array<uint64_t, store::kRunEventKinds> cap_dropped{};
  // Events the user-space filters left out, by EventKindName index.
  std::array<uint64_t, store::kRunEventKinds> filtered_out{};
  // Events not stored because the disk was full or below the free-space
  // floor (daemon/disk_space.h).
  uint64_t disk_dropped = 0;
};

// The run's row: the counts, and runs.error from the outcome.
store::RunStats LiveRunStats(const LiveRunCounts& counts, const RunOutcome& outcome);

}  // namespace recorder::daemon
