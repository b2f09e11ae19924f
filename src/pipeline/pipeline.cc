#include "pipeline/pipeline.h"

#include <algorithm>
#include <utility>

namespace recorder {

Pipeline::Pipeline(PipelineOptions options, ParseReporter* reporter, EventSink* sink)
    : options_(std::move(options)),
      reporter_(reporter),
      sink_(sink),
      assembler_(options_.assembler),
      normalizer_(options_.normalizer) {}

Status Pipeline::FeedLine(std::string_view line, int64_t now_ms) {
  ++stats_.lines;
  stats_.bytes += line.size() + 1;
  ParseError error = ParseRecordHeader(line, &record_);
  if (error == ParseError::kEmptyLine) return Status::Ok();
  if (error != ParseError::kNone) {
    ++stats_.malformed;
    if (reporter_) reporter_->Malformed(stats_.lines, error, line);
    return Status::Ok();
  }
  return FeedParsed(now_ms);
}

Status Pipeline::FeedBody(int type, std::string_view body, int64_t now_ms) {
  ++stats_.lines;
  stats_.bytes += body.size();
  ParseError error = ParseRecordBodyHeader(type, body, &record_);
  if (error != ParseError::kNone) {
    ++stats_.malformed;
    if (reporter_) reporter_->Malformed(stats_.lines, error, body);
    return Status::Ok();
  }
  return FeedParsed(now_ms);
}

Status Pipeline::FeedParsed(int64_t now_ms) {
  // Replay: the records' own clock drives ageing, never running backwards
  // when records arrive slightly out of order.
  latest_record_ms_ = std::max(latest_record_ms_, record_.time_ms());
  if (record_.node.empty()) record_.node = options_.default_node;
  // The assembler splits the fields in its copy: that is where a
  // truncated value shows.
  const AuditRecord* stored =
      assembler_.Feed(record_, now_ms < 0 ? latest_record_ms_ : now_ms, &done_);
  if (stored != nullptr && stored->truncated) {
    ++stats_.truncated;
    if (reporter_) reporter_->Truncated(stats_.lines, record_.line);
  }
  return Drain(/*force=*/false);
}

void Pipeline::NormalizeDone() {
  for (auto& event : done_) normalizer_.Normalize(*event, &typed_);
  assembler_.Recycle(&done_);
}

Status Pipeline::Drain(bool force) {
  NormalizeDone();
  if (typed_.empty() || (!force && typed_.size() < options_.sink_batch)) return Status::Ok();
  stats_.typed_events += typed_.size();
  Status status = sink_->Consume(&typed_);
  typed_.clear();
  return status;
}

Status Pipeline::Age(int64_t now_ms) {
  assembler_.Age(now_ms, &done_);
  NormalizeDone();
  normalizer_.Age(now_ms, &typed_);
  return Drain(/*force=*/true);
}

Status Pipeline::Finish() {
  assembler_.Flush(&done_);
  NormalizeDone();
  normalizer_.Flush(&typed_);
  Status status = Drain(/*force=*/true);
  if (!status.ok()) return status;
  return sink_->Flush();
}

}  // namespace recorder
