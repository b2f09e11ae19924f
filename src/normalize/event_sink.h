// Where typed events go at the end of the pipeline (the store, a test's
// vector, a JSON printer). It lives next to EventBatch, the type it takes,
// so every later stage (enrich, store, pipeline, daemon) can implement it
// without depending on another.
#pragma once

#include "normalize/event_batch.h"
#include "util/status.h"

namespace recorder {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes the events (the sink may change or move from them, or drop
  // some; the caller clears the batch afterwards and reuses its slots).
  // An error stops the pipeline.
  virtual Status Consume(EventBatch* events) = 0;
  // Makes everything consumed so far durable.
  virtual Status Flush() { return Status::Ok(); }
};

}  // namespace recorder
