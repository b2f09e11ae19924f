// Splits one line of audit text into an AuditRecord, in place.
//
// Accepted spellings (all seen in the wild):
//   type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e ...   (audit.log, plugins)
//   node=web1 type=SYSCALL msg=audit(...): ...                     (name_format set)
//   type=UNKNOWN[1329] msg=audit(...): ...                         (type newer than libaudit)
//   Nov 25 10:00:00 host audit: type=1300 audit(...): ...          (syslog, kernel printk)
//   ... uid=0 key="k"<0x1d>ARCH=x86_64 UID="root"                  (auditd ENRICHED format)
//   type=USER_AUTH msg=audit(...): pid=1 msg='op=PAM:auth acct="root" res=success'
#pragma once

#include <cstdint>
#include <string_view>

#include "parse/audit_record.h"

namespace recorder {

// Why a line could not be used. kNone means the record is usable (it may
// still be `truncated`).
enum class ParseError : uint8_t {
  kNone,
  kEmptyLine,
  kTooLong,
  kNoType,
  kEmptyType,
  kNoTimestamp,
  kBadTimestamp,
  kNoSerial,
};

std::string_view ParseErrorText(ParseError error);

// Lines longer than this are rejected: the kernel caps one record at
// about 9 KiB, so anything this long is not audit text.
inline constexpr size_t kMaxLineBytes = size_t{64} * 1024;

// A record in two steps: the header (node, type, time, serial and where
// the body starts; `fields` left empty), then the fields. The pipeline
// parses headers only; the assembler splits the fields once, in its own
// copy of the text, instead of splitting them here and re-pointing every
// view at the copy. On success the record's views point into the input.
//
// The header of an audit.log line (a trailing newline is ignored)...
ParseError ParseRecordHeader(std::string_view line, AuditRecord* record);
// ...or of a record body as the kernel sends it over netlink
// ("audit(1700000000.123:42): arch=..."), whose type comes from the
// netlink header instead of the text.
ParseError ParseRecordBodyHeader(int type, std::string_view body, AuditRecord* record);
// Splits record->body into record->fields (replacing them) and sets
// record->truncated.
void ParseRecordFields(AuditRecord* record);

// Both steps at once, for tests and tools that want a whole record
// without an assembler. Reuses the record's field vector.
ParseError ParseRecordLine(std::string_view line, AuditRecord* record);

// Receives malformed or truncated lines; the caller decides whether to
// log, count or both. Parsing always goes on.
class ParseReporter {
 public:
  virtual ~ParseReporter() = default;
  // `line_number` counts from 1 within the current input.
  virtual void Malformed(uint64_t line_number, ParseError error, std::string_view line) = 0;
  virtual void Truncated(uint64_t line_number, std::string_view line) = 0;
};

}  // namespace recorder
