#include "daemon/json_lines_sink.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include "normalize/typed_event_json.h"

namespace recorder::daemon {

Result<std::unique_ptr<JsonLinesSink>> JsonLinesSink::OpenFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (!file) return Status::Errorf("cannot open {}: {}", path, std::strerror(errno));
  auto sink = std::make_unique<JsonLinesSink>(file);
  sink->owned_ = true;
  return sink;
}

JsonLinesSink::~JsonLinesSink() {
  if (owned_) std::fclose(out_);
}

Status JsonLinesSink::Consume(EventBatch* events) {
  for (const TypedEvent& event : *events) {
    std::string line = ToJson(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), out_) != line.size())
      return Status::Errorf("writing JSON lines failed: {}", std::strerror(errno));
  }
  // Live consumers (a tail, a test) want to see events as they happen;
  // batches are already per Age() tick, so this is not per event.
  std::fflush(out_);
  return Status::Ok();
}

Status JsonLinesSink::Flush() {
  if (std::fflush(out_) != 0) return Status::Errorf("flush failed: {}", std::strerror(errno));
  return Status::Ok();
}

Status TeeSink::Consume(EventBatch* events) {
  // Later sinks may move from the events: each gets its own copy but the last.
  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (i + 1 == sinks_.size()) return sinks_[i]->Consume(events);
    EventBatch copy = *events;
    Status status = sinks_[i]->Consume(&copy);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

void TeeSink::Replace(EventSink* old, EventSink* now) {
  for (auto it = sinks_.begin(); it != sinks_.end(); ++it) {
    if (*it != old) continue;
    if (now == nullptr)
      sinks_.erase(it);
    else
      *it = now;
    return;
  }
}

Status TeeSink::Flush() {
  for (EventSink* sink : sinks_) {
    Status status = sink->Flush();
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace recorder::daemon
