// The stages in order: text lines (or netlink record bodies) -> records
// -> whole events -> typed events -> sink. One thread drives it; time
// comes in as an argument so replay and tests are deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "assemble/event_assembler.h"
#include "normalize/event_sink.h"
#include "normalize/normalizer.h"
#include "parse/record_parser.h"
#include "util/status.h"

namespace recorder {

struct PipelineStats {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t malformed = 0;
  uint64_t truncated = 0;
  uint64_t typed_events = 0;
};

struct PipelineOptions {
  AssemblerOptions assembler;
  NormalizerOptions normalizer;
  // Typed events are handed to the sink in batches of this many (and on
  // Age/Flush).
  size_t sink_batch = 1024;
  // The host of records without node= (`recorder replay --node`): set as
  // each record enters, so that assembling, normalizing and everything
  // after see one node. Empty: such records have none (the local machine).
  std::string default_node;
};

class Pipeline {
 public:
  // `reporter` may be null (malformed lines are then only counted);
  // `sink` is borrowed and must outlive the pipeline.
  Pipeline(PipelineOptions options, ParseReporter* reporter, EventSink* sink);

  // One line of audit text. `now_ms` < 0 means "use the record's own
  // time" (replay); live sources pass their clock.
  Status FeedLine(std::string_view line, int64_t now_ms = -1);
  // One record body from netlink, typed by the netlink header.
  Status FeedBody(int type, std::string_view body, int64_t now_ms);
  // Closes events that aged out by `now_ms` (and lets go on the typed
  // events the normalizer held for a PATH search) and hands ready events on.
  Status Age(int64_t now_ms);
  // End of input: closes everything, held events too, and flushes the sink.
  Status Finish();

  const PipelineStats& stats() const { return stats_; }
  const AssemblerStats& assembler_stats() const { return assembler_.stats(); }
  const NormalizerStats& normalizer_stats() const { return normalizer_.stats(); }

 private:
  // Hands record_ (a parsed header) to the assembler; record_.line is the
  // input as given, for the reporter.
  Status FeedParsed(int64_t now_ms);
  // Normalizes the assembled events into typed_.
  void NormalizeDone();
  Status Drain(bool force);

  PipelineOptions options_;
  ParseReporter* reporter_;
  EventSink* sink_;
  EventAssembler assembler_;
  Normalizer normalizer_;
  AuditRecord record_;  // the current line's header (fields are split by the assembler)
  EventAssembler::EventList done_;
  EventBatch typed_;
  PipelineStats stats_;
  int64_t latest_record_ms_ = 0;
};

}  // namespace recorder
