#include "cli/replay_inputs.h"

#include <fmt/format.h>

#include "bsm/bsm_reader.h"
#include "evtx/sysmon_event.h"
#include "normalize/event_batch.h"

namespace recorder::cli {
namespace {

constexpr size_t kBatch = 1024;
// The most of an EVTX file or a BSM trail read into memory (decompressed).
constexpr size_t kMaxWholeInput = size_t{4} << 30;

// stdin, told apart by its first bytes (decompressed when gzip), like a
// file: the EVTX and BSM readers need the whole input, so it is read to
// the end; audit text stays a line stream.
Result<ReplayInput> OpenStdinInput() {
  ReplayInput input;
  input.file = "-";
  auto reader = LineReader::Open("-");
  if (!reader.ok()) return reader.status();
  auto head = (*reader)->Peek(16);
  if (!head.ok()) return head.status();
  const bool is_evtx = evtx::LooksLikeEvtx(*head);
  if (!is_evtx && !bsm::LooksLikeBsm(*head)) {
    input.text = std::move(reader).value();
    return input;
  }
  Result<std::string> bytes = (*reader)->ReadRest(kMaxWholeInput);
  if (!bytes.ok()) return bytes.status();
  if (is_evtx) {
    auto evtx_reader = evtx::EvtxReader::OpenBytes(std::move(bytes).value(), "stdin");
    if (!evtx_reader.ok()) return evtx_reader.status();
    input.evtx = std::move(evtx_reader).value();
  } else {
    input.bsm = std::move(bytes).value();
    input.is_bsm = true;
  }
  return input;
}

}  // namespace

Result<ReplayInput> OpenReplayInput(const std::string& file) {
  if (file == "-") return OpenStdinInput();
  ReplayInput input;
  input.file = file;
  auto evtx_reader = evtx::OpenIfEvtx(file);
  if (!evtx_reader.ok()) return evtx_reader.status();
  if (*evtx_reader != nullptr) {
    input.evtx = std::move(evtx_reader).value();
    return input;
  }
  Result<std::string> trail = bsm::ReadIfBsm(file, &input.is_bsm);
  if (!trail.ok()) return trail.status();
  if (input.is_bsm) {
    input.bsm = std::move(trail).value();
    return input;
  }
  auto reader = LineReader::Open(file);
  if (!reader.ok()) return reader.status();
  input.text = std::move(reader).value();
  return input;
}

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

}  // namespace recorder::cli
