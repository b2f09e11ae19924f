#include "daemon/recording_sink.h"

#include <algorithm>

namespace recorder::daemon {

Status RecordingSink::Consume(EventBatch* events) {
  auto own = [this](const TypedEvent& event) { return event.subject.pid == own_pid_; };
  auto kept_end = std::remove_if(events->begin(), events->end(), own);
  self_dropped_ += static_cast<uint64_t>(events->end() - kept_end);
  events->Truncate(static_cast<size_t>(kept_end - events->begin()));
  if (events->empty()) return Status::Ok();
  for (const TypedEvent& event : *events) counters_.Add(event, now_ms_);
  return next_->Consume(events);
}

}  // namespace recorder::daemon
