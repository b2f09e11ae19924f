// The sink the daemon puts in front of the store: drops the recorder's own
// activity (second guard after the "never" rule for our pid), counts what
// passes, and hands it on.
#pragma once

#include <cstdint>
#include <vector>

#include "daemon/event_counters.h"
#include "normalize/event_sink.h"

namespace recorder::daemon {

class RecordingSink : public EventSink {
 public:
  // `next` is borrowed. Events whose subject pid is `own_pid` are dropped.
  RecordingSink(EventSink* next, int32_t own_pid) : next_(next), own_pid_(own_pid) {}

  // The clock for the per-second counters; the loop sets it before feeding.
  void set_now(int64_t now_ms) { now_ms_ = now_ms; }

  Status Consume(EventBatch* events) override;
  Status Flush() override { return next_->Flush(); }

  const EventCounters& counters() const { return counters_; }
  uint64_t self_dropped() const { return self_dropped_; }

 private:
  EventSink* next_;
  int32_t own_pid_;
  int64_t now_ms_ = 0;
  EventCounters counters_;
  uint64_t self_dropped_ = 0;
};

}  // namespace recorder::daemon
