// The live count line `recorder run` keeps at the bottom of a terminal,
// and the log lines written above it.
//
// The line is redrawn in place ("\r", erase line) every second. A log
// line written to the same terminal meanwhile would start at the end of
// the count line; a log sink wrapped by LiveLine::WrapSinks clears the
// count line first and draws it again after the message.
//
// Thread safety: Show, Finish and the wrapped sinks may be called from
// any thread (log lines come from the hash worker and the writer too);
// one mutex orders the terminal's writes.
#pragma once

#include <spdlog/logger.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/event_counters.h"

namespace recorder::daemon {

// What the line shows; counts per second are over the last second.
struct LiveLineCounts {
  std::string_view source;                         // AuditSourceName
  std::array<uint64_t, kEventKinds> per_second{};  // by EventKindName index
  uint64_t total = 0;
  // Records the kernel lost during this run (the kernel's counter counts
  // from boot: the count at the run's start is taken off).
  uint64_t kernel_lost = 0;
  uint64_t drops = 0;
};

// The line's text, without terminal control characters.
std::string LiveLineText(const LiveLineCounts& counts);

// The kernel's lost counter during a run: `now` less `at_start`, 0 when
// either is unknown or the counter went back (it is reset by no one but
// a reboot; a wrap is not worth a wrong number).
uint64_t LostSinceStart(std::optional<uint64_t> at_start, std::optional<uint64_t> now);

class LiveLine {
 public:
  // `write` puts text on the terminal and flushes it (stderr by default).
  explicit LiveLine(std::function<void(std::string_view)> write = nullptr);

  // Draws `text` in place of the line shown.
  void Show(std::string text);
  // Ends the line (a newline) and shows it no more: what is written after
  // starts on a line of its own.
  void Finish();

  // Replaces the sinks of `logger` with ones that clear the line before
  // each message and draw it again after (only while it is shown).
  static void WrapSinks(const std::shared_ptr<LiveLine>& line, spdlog::logger* logger);

 private:
  friend class LiveLineSink;
  // Called by the wrapped sinks around a message, under mutex_.
  void ClearLocked();
  void RedrawLocked();

  std::function<void(std::string_view)> write_;
  std::mutex mutex_;
  std::string text_;    // GUARDED_BY(mutex_)
  bool shown_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace recorder::daemon
