// A whole audit event: every record the kernel (or a user-space program)
// wrote under one (node, serial, time), owning a copy of their text.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "parse/audit_record.h"

namespace recorder {

// Why the assembler considered an event complete.
enum class CloseReason : uint8_t {
  kEndOfEvent,    // PROCTITLE or EOE record (the kernel's last records of an event)
  kSingleRecord,  // a type that is a whole event by itself (USER_*, DAEMON_*)
  kAged,          // no EOE within the age limit
  kWindow,        // too many later records arrived without completing it
  kCapacity,      // too many events open at once; the oldest is closed
  kSerialReuse,   // a record with the same serial but another time arrived
  kFlush,         // end of input
};

class AuditEvent {
 public:
  AuditEvent() = default;
  AuditEvent(const AuditEvent&) = delete;
  AuditEvent& operator=(const AuditEvent&) = delete;

  std::string_view node() const { return records_.empty() ? std::string_view() : records_[0].node; }
  uint64_t serial() const { return records_.empty() ? 0 : records_[0].serial; }
  int64_t time_ms() const { return records_.empty() ? 0 : records_[0].time_ms(); }
  const std::vector<AuditRecord>& records() const { return records_; }
  CloseReason close_reason() const { return close_reason_; }
  // True when any record was cut short or the event was closed without
  // its end marker: the normalizer marks what it derives as partial.
  bool incomplete() const {
    return truncated_ || close_reason_ == CloseReason::kAged ||
           close_reason_ == CloseReason::kWindow || close_reason_ == CloseReason::kCapacity ||
           close_reason_ == CloseReason::kFlush;
  }

  // First record of a type, or nullptr.
  const AuditRecord* Find(int type) const {
    for (const AuditRecord& r : records_)
      if (r.type == type) return &r;
    return nullptr;
  }

  // Copies the record's text once, re-points its views at the copy and
  // splits its fields there (the record's own fields, if any, are not
  // used: a header from ParseRecordHeader is enough). Returns the copy.
  const AuditRecord& Add(const AuditRecord& record);
  // Empties the event for reuse, keeping the capacity of its record and
  // field vectors and of a small text chunk: the assembler recycles events
  // so a steady stream allocates almost nothing per record.
  void Reset();
  void set_close_reason(CloseReason reason) { close_reason_ = reason; }

 private:
  // Copies `line` into the text chunks and returns where it now lives.
  const char* CopyText(std::string_view line);

  std::vector<AuditRecord> records_;
  // Records kept by Reset() for their field vectors' capacity.
  std::vector<AuditRecord> spare_records_;
  // The records' text, packed into chunks: records keep views into them,
  // so a chunk is never resized once written to; a record that does not
  // fit the last chunk starts a new one. A typical syscall event fits one.
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t used = 0;
    size_t capacity = 0;
  };
  std::vector<Chunk> text_;
  CloseReason close_reason_ = CloseReason::kEndOfEvent;
  bool truncated_ = false;
};

}  // namespace recorder
