// Typed events as JSON lines (ToJson(), "event" names the kind) on a FILE*:
// `recorder run --stdout-json` and `--json-out FILE` (watching live, and
// the live tests' view before the store existed).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "normalize/event_sink.h"

namespace recorder::daemon {

class JsonLinesSink : public EventSink {
 public:
  // Borrows `out` (stdout); the caller keeps it open.
  explicit JsonLinesSink(std::FILE* out) : out_(out) {}
  // Opens `path` for appending; the sink owns and closes it.
  static Result<std::unique_ptr<JsonLinesSink>> OpenFile(const std::string& path);
  ~JsonLinesSink() override;

  Status Consume(EventBatch* events) override;
  Status Flush() override;

 private:
  std::FILE* out_;
  bool owned_ = false;
};

// Sends each batch to every sink in order (store + JSON lines).
class TeeSink : public EventSink {
 public:
  explicit TeeSink(std::vector<EventSink*> sinks) : sinks_(std::move(sinks)) {}
  Status Consume(EventBatch* events) override;
  Status Flush() override;
  // Puts `now` where `old` was (the store after a switch to a fresh
  // database file); a null `now` removes `old`.
  void Replace(EventSink* old, EventSink* now);

 private:
  std::vector<EventSink*> sinks_;
};

}  // namespace recorder::daemon
