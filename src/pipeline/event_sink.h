// Where typed events go at the end of the pipeline (the store, a test's
// vector, a JSON printer).
#pragma once

#include <vector>

#include "normalize/typed_event.h"
#include "util/status.h"

namespace recorder {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes the events (the sink may move from them; the caller clears the
  // vector afterwards). An error stops the pipeline.
  virtual Status Consume(std::vector<TypedEvent>* events) = 0;
  // Makes everything consumed so far durable.
  virtual Status Flush() { return Status::Ok(); }
};

}  // namespace recorder
