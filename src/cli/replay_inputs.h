// `recorder replay`'s inputs that are not audit text: Windows event logs
// (EVTX) and macOS/FreeBSD audit trails (OpenBSM), each read whole and
// handed on as typed events in batches; and the problem list the summary
// prints (FILE:where: reason), and the progress bar. The audit-text path
// is the pipeline's.
#pragma once

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bsm/bsm_mapping.h"
#include "evtx/evtx_reader.h"
#include "normalize/event_sink.h"
#include "pipeline/pipeline.h"
#include "source/line_reader.h"

namespace recorder::cli {

// One input of a replay, known by its content (never its name): a Windows
// event log or a BSM trail is read whole, audit text line by line.
struct ReplayInput {
  std::string file;
  std::unique_ptr<LineReader> text;
  std::unique_ptr<evtx::EvtxReader> evtx;
  std::string bsm;  // the whole trail
  bool is_bsm = false;
};

// Opens `file` (plain or .gz; "-" for stdin, told apart by its first
// bytes the same way). An error names the file and why.
Result<ReplayInput> OpenReplayInput(const std::string& file);

// Keeps the first few problems with their place (FILE:LINE: reason) for
// the summary; counting is the pipeline's job.
class SummaryReporter : public ParseReporter {
 public:
  void set_reader(const LineReader* reader) { reader_ = reader; }
  void Malformed(uint64_t, ParseError error, std::string_view) override;
  void Truncated(uint64_t, std::string_view) override;
  void Note(std::string_view reason);
  void NoteAt(std::string_view where, std::string_view reason);
  const std::vector<std::string>& examples() const { return examples_; }

 private:
  static constexpr size_t kMaxExamples = 5;
  const LineReader* reader_ = nullptr;
  std::vector<std::string> examples_;
};

// A Windows event log's records, counted for the summary and the run.
struct EvtxCounts {
  uint64_t records = 0;
  uint64_t sysmon = 0;         // mapped to typed events
  uint64_t unmapped = 0;       // Sysmon event ids the recorder does not store
  uint64_t other_channel = 0;  // not Sysmon's: Security, PowerShell, ...
  uint64_t problems = 0;       // damaged records, a file cut short
};

// Every record of `reader`: Sysmon's become typed events handed to `sink`
// in batches (the store links them by ProcessGuid), the others are
// counted; each problem is noted as FILE:where: reason. Stops at the
// sink's first error, or when interrupted.
Status ReplayEvtx(evtx::EvtxReader& reader, EventSink* sink, EvtxCounts* counts,
                  SummaryReporter* reporter, volatile sig_atomic_t* interrupted);

// BSM trails' records, counted for the summary and the run.
struct BsmCounts {
  uint64_t records = 0;
  uint64_t mapped = 0;    // became an event
  uint64_t unmapped = 0;  // of events the mapping does not store (forks included)
  uint64_t problems = 0;  // damaged records and stretches, records cut short
};

// Every record of `trail` (the whole file named `name`) through `mapper`
// (one per host: it keeps the fork ancestry across the host's trails),
// the events handed to `sink` in batches; each problem is noted as
// FILE:offset: reason. Stops at the sink's first error, or when
// interrupted.
Status ReplayBsm(std::string_view name, std::string_view trail, bsm::BsmMapper* mapper,
                 EventSink* sink, BsmCounts* counts, SummaryReporter* reporter,
                 volatile sig_atomic_t* interrupted);

// A one-line progress bar on stderr, redrawn at most every 200 ms.
class Progress {
 public:
  Progress(uint64_t total_bytes, bool enabled) : total_(total_bytes), enabled_(enabled) {}
  void Update(uint64_t done_bytes) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    double fraction = total_ ? std::min(1.0, double(done_bytes) / double(total_)) : 0;
    constexpr int kWidth = 40;
    int filled = static_cast<int>(fraction * kWidth);
    std::fprintf(stderr, "\r[%s%s] %3d%% %.1f/%.1f MB", std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                 done_bytes / 1e6, total_ / 1e6);
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) std::fprintf(stderr, "\r%*s\r", 70, "");
    drawn_ = false;
  }

 private:
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace recorder::cli
