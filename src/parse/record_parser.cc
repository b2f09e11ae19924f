#include "parse/record_parser.h"

#include <bit>
#include <charconv>
#include <cstring>

#include "parse/message_types.h"

namespace recorder {
namespace {

constexpr char kEnrichedSeparator = '\x1d';

bool IsUpperName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9'))) return false;
  return name.front() >= 'A' && name.front() <= 'Z';
}

// Byte classes for the field scanner: one table load per byte instead of
// two or three compares (ParseFields is the top symbol of a replay).
constexpr uint8_t kEndsValue = 1;  // ' ' or the ENRICHED separator
constexpr uint8_t kEndsName = 2;   // those and '='
struct ByteClasses {
  uint8_t of[256];
  constexpr ByteClasses() : of() {
    of[static_cast<uint8_t>(' ')] = kEndsValue | kEndsName;
    of[static_cast<uint8_t>(kEnrichedSeparator)] = kEndsValue | kEndsName;
    of[static_cast<uint8_t>('=')] = kEndsName;
  }
};
constexpr ByteClasses kClasses;

// SWAR: the scanner's two loops look at eight bytes per step (they were
// most of ParseFields' time, a branch per byte). ByteMask sets the high
// bit of each byte of `word` equal to `c`, plus possibly bytes above a
// true match (a borrow only spills upward): the lowest set bit is always
// the first true match, which is all the scanner needs.
static_assert(std::endian::native == std::endian::little, "the scanner reads words low byte first");
constexpr uint64_t kLowBits = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;
inline uint64_t ByteMask(uint64_t word, char c) {
  const uint64_t x = word ^ (kLowBits * static_cast<uint8_t>(c));
  return (x - kLowBits) & ~x & kHighBits;
}

// First byte in [p, end) that ends a value (kName: or a name), or end.
template <bool kName>
const char* ScanToEnd(const char* p, const char* end) {
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    uint64_t hits = ByteMask(word, ' ') | ByteMask(word, kEnrichedSeparator);
    if constexpr (kName) hits |= ByteMask(word, '=');
    if (hits) return p + (std::countr_zero(hits) >> 3);
    p += 8;
  }
  const uint8_t stop = kName ? kEndsName : kEndsValue;
  while (p < end && !(kClasses.of[static_cast<uint8_t>(*p)] & stop)) ++p;
  return p;
}

// Position of the first space or ENRICHED separator at or after `pos`.
size_t FindValueEnd(std::string_view s, size_t pos) {
  const char* end = s.data() + s.size();
  return static_cast<size_t>(ScanToEnd<false>(s.data() + pos, end) - s.data());
}

size_t FindChar(std::string_view s, size_t pos, char c) {
  if (pos >= s.size()) return std::string_view::npos;
  const void* hit = std::memchr(s.data() + pos, c, s.size() - pos);
  return hit ? static_cast<size_t>(static_cast<const char*>(hit) - s.data())
             : std::string_view::npos;
}

ValueSpelling BareSpelling(std::string_view value) {
  if (value == "(null)") return ValueSpelling::kNull;
  if (value == "?" || value == "(none)") return ValueSpelling::kUnset;
  return ValueSpelling::kBare;
}

// Splits `text` into fields appended to `record`. `nested` is set while
// parsing the inside of msg='...', which is not split again.
void ParseFields(std::string_view text, bool nested, AuditRecord* record) {
  size_t pos = 0;
  bool interpreted_section = false;
  const size_t n = text.size();
  while (pos < n) {
    char c = text[pos];
    if (c == ' ') {
      ++pos;
      continue;
    }
    if (c == kEnrichedSeparator) {
      interpreted_section = true;
      ++pos;
      continue;
    }
    // Name: up to '=', or a bare word (AVC's "avc:  denied  {") to skip.
    size_t name_start = pos;
    pos = static_cast<size_t>(ScanToEnd<true>(text.data() + pos, text.data() + n) - text.data());
    if (pos >= n || text[pos] != '=') continue;  // a word without a value
    std::string_view name = text.substr(name_start, pos - name_start);
    ++pos;  // '='
    AuditField field;
    field.name = name;
    field.interpreted = interpreted_section || IsUpperName(name);
    if (pos < n && (text[pos] == '"' || (text[pos] == '\'' && !nested))) {
      const char quote = text[pos];
      size_t close = FindChar(text, pos + 1, quote);
      if (close == std::string_view::npos) {
        record->truncated = true;
        close = n;
      }
      std::string_view value = text.substr(pos + 1, close - pos - 1);
      pos = close + 1;
      if (quote == '\'' && name == "msg") {
        // User-space records wrap their own key=values in msg='...'.
        ParseFields(value, /*nested=*/true, record);
        continue;
      }
      field.value = value;
      field.spelling = ValueSpelling::kQuoted;
    } else {
      size_t end = FindValueEnd(text, pos);
      field.value = text.substr(pos, end - pos);
      field.spelling = BareSpelling(field.value);
      pos = end;
    }
    record->fields.push_back(field);
  }
}

// Parses "audit(SEC.MSEC:SERIAL):" at the start of `text`; on success
// returns the offset just past the closing "):".
ParseError ParseStamp(std::string_view text, AuditRecord* record, size_t* body_start) {
  constexpr std::string_view kAudit = "audit(";
  if (text.substr(0, kAudit.size()) != kAudit) return ParseError::kNoTimestamp;
  const char* p = text.data() + kAudit.size();
  const char* end = text.data() + text.size();
  auto sec = std::from_chars(p, end, record->time_sec);
  if (sec.ec != std::errc() || sec.ptr >= end || *sec.ptr != '.') return ParseError::kBadTimestamp;
  const char* msec_start = sec.ptr + 1;
  auto msec = std::from_chars(msec_start, end, record->time_msec);
  if (msec.ec != std::errc() || msec.ptr - msec_start != 3) return ParseError::kBadTimestamp;
  if (msec.ptr >= end || *msec.ptr != ':') return ParseError::kNoSerial;
  auto serial = std::from_chars(msec.ptr + 1, end, record->serial);
  if (serial.ec != std::errc() || serial.ptr >= end || *serial.ptr != ')')
    return ParseError::kNoSerial;
  const char* q = serial.ptr + 1;
  if (q < end && *q == ':') ++q;
  *body_start = static_cast<size_t>(q - text.data());
  return ParseError::kNone;
}

void ResetRecord(std::string_view line, AuditRecord* record) {
  record->line = line;
  record->node = {};
  record->type_name = {};
  record->type = 0;
  record->time_sec = 0;
  record->time_msec = 0;
  record->serial = 0;
  record->body = {};
  record->fields.clear();
  record->truncated = false;
}

}  // namespace

std::string_view ParseErrorText(ParseError error) {
  switch (error) {
    case ParseError::kNone: return "ok";
    case ParseError::kEmptyLine: return "empty line";
    case ParseError::kTooLong: return "line longer than 64 KiB";
    case ParseError::kNoType: return "no type= field";
    case ParseError::kEmptyType: return "empty type=";
    case ParseError::kNoTimestamp: return "no audit(...) timestamp";
    case ParseError::kBadTimestamp: return "malformed audit(SEC.MSEC:SERIAL) time";
    case ParseError::kNoSerial: return "audit(...) without serial";
  }
  return "unknown";
}

ParseError ParseRecordHeader(std::string_view line, AuditRecord* record) {
  ResetRecord(line, record);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return ParseError::kEmptyLine;
  if (line.size() > kMaxLineBytes) return ParseError::kTooLong;

  // Fast path: audit.log lines start with "type=" or "node="; otherwise
  // skip a syslog prefix by searching for them.
  size_t pos = 0;
  if (line.compare(0, 5, "node=") != 0 && line.compare(0, 5, "type=") != 0) {
    size_t node_at = line.find(" node=");
    size_t type_at = line.find(" type=");
    if (type_at == std::string_view::npos) return ParseError::kNoType;
    pos = (node_at != std::string_view::npos && node_at < type_at) ? node_at + 1 : type_at + 1;
  }
  if (line.compare(pos, 5, "node=") == 0) {
    size_t end = FindValueEnd(line, pos + 5);
    record->node = line.substr(pos + 5, end - pos - 5);
    pos = end;
    while (pos < line.size() && line[pos] == ' ') ++pos;
  }
  if (line.compare(pos, 5, "type=") != 0) return ParseError::kNoType;
  size_t type_end = FindValueEnd(line, pos + 5);
  record->type_name = line.substr(pos + 5, type_end - pos - 5);
  if (record->type_name.empty()) return ParseError::kEmptyType;
  record->type = MessageTypeFromName(record->type_name);
  pos = type_end;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (line.compare(pos, 4, "msg=") == 0) pos += 4;

  size_t body = 0;
  ParseError error = ParseStamp(line.substr(pos), record, &body);
  if (error != ParseError::kNone) return error;
  record->body = line.substr(pos + body);
  return ParseError::kNone;
}

ParseError ParseRecordBodyHeader(int type, std::string_view body, AuditRecord* record) {
  ResetRecord(body, record);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\0')) body.remove_suffix(1);
  if (body.empty()) return ParseError::kEmptyLine;
  if (body.size() > kMaxLineBytes) return ParseError::kTooLong;
  record->type = type;
  record->type_name = MessageTypeName(type);
  size_t start = 0;
  ParseError error = ParseStamp(body, record, &start);
  if (error != ParseError::kNone) return error;
  record->body = body.substr(start);
  return ParseError::kNone;
}

void ParseRecordFields(AuditRecord* record) {
  record->fields.clear();
  record->truncated = false;
  ParseFields(record->body, /*nested=*/false, record);
}

ParseError ParseRecordLine(std::string_view line, AuditRecord* record) {
  ParseError error = ParseRecordHeader(line, record);
  if (error == ParseError::kNone) ParseRecordFields(record);
  return error;
}

ParseError ParseRecordBody(int type, std::string_view body, AuditRecord* record) {
  ParseError error = ParseRecordBodyHeader(type, body, record);
  if (error == ParseError::kNone) ParseRecordFields(record);
  return error;
}

}  // namespace recorder
