// One audit record as text, split into fields without copying.
//
// Every string_view in an AuditRecord points into the line it was parsed
// from (or, once the assembler owns it, into the event's own copy of that
// line). Views are valid until that buffer is reused or freed.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace recorder {

// How a value was written. The kernel writes "untrusted" strings (paths,
// comm, exe, argv, proctitle) either quoted or, when they hold spaces,
// quotes or non-printable bytes, as bare hex; only the field's meaning
// tells which, so the parser records the spelling and the normalizer decodes.
enum class ValueSpelling : uint8_t {
  kBare,    // a0=7ffd  exit=0  name=2F746D70  (maybe hex-encoded text)
  kQuoted,  // comm="ls"  (quotes stripped)
  kNull,    // (null)
  kUnset,   // ?  or (none)
};

struct AuditField {
  std::string_view name;
  std::string_view value;
  ValueSpelling spelling = ValueSpelling::kBare;
  // True for auditd's ENRICHED fields (after the 0x1d separator, or any
  // all-uppercase name such as UID="root"). Raw fields stay authoritative.
  bool interpreted = false;
};

struct AuditRecord {
  std::string_view line;       // the whole input line (without newline)
  std::string_view node;       // empty when the line has no node=
  std::string_view type_name;  // "SYSCALL", "1300", "UNKNOWN[1329]"
  int type = 0;                // numeric message type; 0 when the name is unknown
  int64_t time_sec = 0;
  int32_t time_msec = 0;
  uint64_t serial = 0;
  // The text after "audit(...):", which `fields` are split from.
  std::string_view body;
  // Fields in record order. For user-space records the key=value pairs
  // inside msg='...' follow in place of msg itself.
  std::vector<AuditField> fields;
  // The line ended inside a quoted value: fields up to there are kept.
  bool truncated = false;

  int64_t time_ms() const { return time_sec * 1000 + time_msec; }

  // First raw (non-interpreted) field with this name, or nullptr.
  const AuditField* Find(std::string_view name) const {
    for (const AuditField& f : fields)
      if (!f.interpreted && f.name == name) return &f;
    return nullptr;
  }
  // First ENRICHED field with this name (e.g. "UID"), or nullptr.
  const AuditField* FindInterpreted(std::string_view name) const {
    for (const AuditField& f : fields)
      if (f.interpreted && f.name == name) return &f;
    return nullptr;
  }
  std::string_view Value(std::string_view name) const {
    const AuditField* f = Find(name);
    return f ? f->value : std::string_view();
  }
};

}  // namespace recorder
