#include "cli/replay_inputs.h"

#include <fmt/format.h>

#include "evtx/sysmon_event.h"
#include "normalize/event_batch.h"

namespace recorder::cli {
namespace {
constexpr size_t kBatch = 1024;
}  // namespace

void SummaryReporter::Malformed(uint64_t, ParseError error, std::string_view) {
  Note(ParseErrorText(error));
}

void SummaryReporter::Truncated(uint64_t, std::string_view) {
  Note("truncated record (unterminated quote), kept what parsed");
}

void SummaryReporter::Note(std::string_view reason) {
  NoteAt(fmt::format("{}:{}", reader_->path(), reader_->line_number()), reason);
}

void SummaryReporter::NoteAt(std::string_view where, std::string_view reason) {
  if (examples_.size() < kMaxExamples) examples_.push_back(fmt::format("{}: {}", where, reason));
}

Status ReplayEvtx(evtx::EvtxReader& reader, EventSink* sink, EvtxCounts* counts,
                  SummaryReporter* reporter, volatile sig_atomic_t* interrupted) {
  EventBatch batch;
  Status status;
  auto hand_on = [&] {
    if (batch.empty() || !status.ok()) return;
    status = sink->Consume(&batch);
    batch.clear();
  };
  reader.ReadAll(
      [&](const evtx::EvtxRecord& record) {
        ++counts->records;
        TypedEvent& event = batch.Add();
        switch (evtx::MapSysmonRecord(record, &event)) {
          case evtx::SysmonMapping::kMapped:
            ++counts->sysmon;
            if (batch.size() >= kBatch) hand_on();
            return;
          case evtx::SysmonMapping::kOtherChannel:
            ++counts->other_channel;
            break;
          case evtx::SysmonMapping::kUnmapped:
            ++counts->unmapped;
            break;
        }
        batch.pop_back();
      },
      [&](const evtx::EvtxProblem& problem) {
        ++counts->problems;
        reporter->NoteAt(fmt::format("{}:{}", reader.name(), problem.where), problem.reason);
      },
      [&] { return status.ok() && !*interrupted; });
  hand_on();
  return status;
}

Status ReplayBsm(std::string_view name, std::string_view trail, bsm::BsmMapper* mapper,
                 EventSink* sink, BsmCounts* counts, SummaryReporter* reporter,
                 volatile sig_atomic_t* interrupted) {
  EventBatch batch;
  std::vector<TypedEvent> mapped;
  Status status;
  auto hand_on = [&] {
    if (batch.empty() || !status.ok()) return;
    status = sink->Consume(&batch);
    batch.clear();
  };
  const bsm::BsmMappingStats before = mapper->stats();
  const bsm::BsmReadStats read = bsm::ParseTrail(
      trail,
      [&](const bsm::BsmRecord& record) {
        mapped.clear();
        mapper->Map(record, &mapped);
        for (TypedEvent& event : mapped) batch.push_back(std::move(event));
        if (batch.size() >= kBatch) hand_on();
      },
      [&](const bsm::BsmProblem& problem) {
        ++counts->problems;
        reporter->NoteAt(fmt::format("{}:offset {}", name, problem.offset), problem.reason);
      },
      [&] { return status.ok() && !*interrupted; });
  hand_on();
  counts->records += read.records;
  counts->mapped += mapper->stats().mapped - before.mapped;
  counts->unmapped += mapper->stats().unmapped - before.unmapped;
  return status;
}

Status DefaultNodeSink::Consume(EventBatch* events) {
  for (TypedEvent& event : *events)
    if (event.header.node.empty()) event.header.node = node_;
  return next_->Consume(events);
}

}  // namespace recorder::cli
