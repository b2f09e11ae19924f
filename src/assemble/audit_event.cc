#include "assemble/audit_event.h"

#include <algorithm>
#include <cstring>

#include "parse/record_parser.h"

namespace recorder {

namespace {
constexpr size_t kChunkBytes = 2048;
// Reset() keeps a text chunk up to this size; a torture event's 40 KB
// chunk is freed rather than pinned in the assembler's pool.
constexpr size_t kKeepChunkBytes = size_t{16} * 1024;
// ... and at most this many spare records (one EXECVE may have hundreds).
constexpr size_t kKeepRecords = 64;
}  // namespace

const char* AuditEvent::CopyText(std::string_view line) {
  if (text_.empty() || text_.back().capacity - text_.back().used < line.size() + 1) {
    Chunk& chunk = text_.emplace_back();
    chunk.capacity = std::max(kChunkBytes, line.size() + 1);
    chunk.data = std::make_unique_for_overwrite<char[]>(chunk.capacity);
  }
  Chunk& chunk = text_.back();
  char* out = chunk.data.get() + chunk.used;
  std::memcpy(out, line.data(), line.size());
  out[line.size()] = '\0';
  chunk.used += line.size() + 1;
  return out;
}

const AuditRecord& AuditEvent::Add(const AuditRecord& record) {
  const std::string_view line = record.line;
  if (records_.empty()) {
    // A syscall event is typically 4-8 records: one allocation each for
    // the two vectors instead of a doubling series.
    records_.reserve(8);
    text_.reserve(2);
  }
  const char* base = CopyText(line);
  auto rebase = [&](std::string_view view) {
    if (view.empty()) return std::string_view();
    // Views outside the line (libaudit's static type names) stay as they are.
    if (view.data() < line.data() || view.data() + view.size() > line.data() + line.size())
      return view;
    return std::string_view(base + (view.data() - line.data()), view.size());
  };
  if (spare_records_.empty()) {
    records_.emplace_back();
  } else {
    records_.push_back(std::move(spare_records_.back()));
    spare_records_.pop_back();
  }
  AuditRecord& owned = records_.back();
  owned.line = std::string_view(base, line.size());
  owned.node = rebase(record.node);
  owned.type_name = rebase(record.type_name);
  owned.type = record.type;
  owned.time_sec = record.time_sec;
  owned.time_msec = record.time_msec;
  owned.serial = record.serial;
  owned.body = rebase(record.body);
  ParseRecordFields(&owned);
  truncated_ = truncated_ || owned.truncated;
  return owned;
}

void AuditEvent::Reset() {
  for (AuditRecord& r : records_) {
    if (spare_records_.size() >= kKeepRecords) break;
    spare_records_.push_back(std::move(r));
  }
  records_.clear();
  if (!text_.empty()) {
    if (text_.front().capacity <= kKeepChunkBytes) {
      text_.resize(1);
      text_.front().used = 0;
    } else {
      text_.clear();
    }
  }
  close_reason_ = CloseReason::kEndOfEvent;
  truncated_ = false;
}

}  // namespace recorder
