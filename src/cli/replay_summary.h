// What `recorder replay` prints when it ends: what it read, what it
// stored, what the filters left out and the rules matched, what it could
// not use, and each thread's CPU. Tests and benchmarks read these lines
// (bench/ scripts take the events/s and the cpu line): keep their words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/replay_inputs.h"
#include "filter/filtering_sink.h"
#include "signals/signal_sink.h"
#include "store/run_log.h"

namespace recorder::cli {

struct ReplaySignalsSummary {
  size_t loaded = 0;
  size_t not_loaded = 0;
  signals::SignalStats matched;
  bool disabled = false;  // DisableSignals: loaded and stored, not matched
  int64_t record_signal_matches = 0;
};

// CPU seconds of each thread. Without rules the thread after the reading
// one enriches, filters and stores; with rules it matches too and the
// store has a thread of its own.
struct ReplayThreadsCpu {
  double reading = 0;
  double next = 0;
  std::optional<double> store;
  uint64_t reading_waits = 0;  // the next thread's queue was full
};

struct ReplaySummary {
  size_t inputs = 0;
  std::string db;
  double seconds = 0;  // wall
  store::RunStats run;
  store::StoreCounters stored;
  std::optional<filter::FilterStats> filtered;  // with filters
  EvtxCounts evtx;
  BsmCounts bsm;
  std::optional<ReplaySignalsSummary> signals;  // with rules
  std::vector<std::string> examples;            // of what could not be used
  ReplayThreadsCpu cpu;
};

void PrintReplaySummary(const ReplaySummary& s, std::FILE* out);

}  // namespace recorder::cli
