#include "parse/record_parser.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <limits>

#include "parse/message_types.h"
#include "util/enum_text.h"

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
// The same for every byte below `n` (n <= 0x80): no true match is ever
// missed, and false ones only sit above a true one.
inline uint64_t BelowMask(uint64_t word, uint8_t n) {
  return (word - kLowBits * n) & ~word & kHighBits;
}

// First byte in [p, end) that ends a value (kName: or a name), or end.
// ' ' and the ENRICHED separator are both below 0x21, so one BelowMask
// finds them (three operations a word fewer than a ByteMask each); the
// candidates are checked against the byte table in order, which steps
// over another control byte and over false matches alike.
template <bool kName>
const char* ScanToEnd(const char* p, const char* end) {
  constexpr uint8_t stop = kName ? kEndsName : kEndsValue;
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof word);
    uint64_t hits = BelowMask(word, 0x21);
    if constexpr (kName) hits |= ByteMask(word, '=');
    for (; hits != 0; hits &= hits - 1) {
      const char* hit = p + (std::countr_zero(hits) >> 3);
      if (kClasses.of[static_cast<uint8_t>(*hit)] & stop) return hit;
    }
    p += 8;
  }
  while (p < end && !(kClasses.of[static_cast<uint8_t>(*p)] & stop)) ++p;
  return p;
}

// Whether `s` holds `literal` at `pos` (a fixed-length memcmp: compare()'s
// bounds checks and length logic showed in the header's profile).
template <size_t N>
bool HasAt(std::string_view s, size_t pos, const char (&literal)[N]) {
  return pos <= s.size() && s.size() - pos >= N - 1 &&
         std::memcmp(s.data() + pos, literal, N - 1) == 0;
}

// Position of the first space or ENRICHED separator at or after `pos`.
size_t FindValueEnd(std::string_view s, size_t pos) {
  const char* end = s.data() + s.size();
  return static_cast<size_t>(ScanToEnd<false>(s.data() + pos, end) - s.data());
}

ValueSpelling BareSpelling(std::string_view value) {
  if (value == "(null)") return ValueSpelling::kNull;
  if (value == "?" || value == "(none)") return ValueSpelling::kUnset;
  return ValueSpelling::kBare;
}

// Splits `text` into fields appended to `record`. `nested` is set while
// parsing the inside of msg='...', which is not split again. Walks a
// pointer rather than string_view offsets: this loop runs over every byte
// of every record, and substr would check bounds at each step.
void ParseFields(std::string_view text, bool nested, AuditRecord* record) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool interpreted_section = false;
  while (p < end) {
    const char c = *p;
    if (c == ' ') {
      ++p;
      continue;
    }
    if (c == kEnrichedSeparator) {
      interpreted_section = true;
      ++p;
      continue;
    }
    // Name: up to '=', or a bare word (AVC's "avc:  denied  {") to skip.
    const char* name_start = p;
    p = ScanToEnd<true>(p, end);
    if (p == end || *p != '=') continue;  // a word without a value
    const std::string_view name(name_start, static_cast<size_t>(p - name_start));
    ++p;  // '='
    AuditField& field = record->fields.emplace_back();
    field.name = name;
    field.interpreted = interpreted_section || IsUpperName(name);
    if (p < end && (*p == '"' || (*p == '\'' && !nested))) {
      const char quote = *p;
      const void* hit = std::memchr(p + 1, quote, static_cast<size_t>(end - p - 1));
      const char* close = hit ? static_cast<const char*>(hit) : end;
      if (hit == nullptr) record->truncated = true;
      const std::string_view value(p + 1, static_cast<size_t>(close - p - 1));
      p = close == end ? end : close + 1;
      if (quote == '\'' && name == "msg") {
        // User-space records wrap their own key=values in msg='...'.
        record->fields.pop_back();
        ParseFields(value, /*nested=*/true, record);
        continue;
      }
      field.value = value;
      field.spelling = ValueSpelling::kQuoted;
    } else {
      const char* value_end = ScanToEnd<false>(p, end);
      field.value = std::string_view(p, static_cast<size_t>(value_end - p));
      field.spelling = BareSpelling(field.value);
      p = value_end;
    }
  }
}

// Decimal digits from *p up to the first non-digit, at most 18 of them:
// advances *p past them, or false when there are none or too many.
bool Digits(const char** p, const char* end, uint64_t* value) {
  const char* start = *p;
  const char* q = start;
  uint64_t v = 0;
  while (q != end && static_cast<unsigned>(*q - '0') <= 9) v = v * 10 + unsigned(*q++ - '0');
  if (q == start || q - start > 18) return false;
  *p = q;
  *value = v;
  return true;
}

// time_ms() multiplies the seconds by 1000 and adds the milliseconds:
// larger stamps would overflow it.
constexpr uint64_t kMaxStampSeconds =
    (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - 999) / 1000;

// Parses "audit(SEC.MSEC:SERIAL):" at the start of `text`; on success
// returns the offset just past the closing "):". By hand (Digits):
// every record has one, and from_chars with checked substr costs several
// times as much. SEC and MSEC are unsigned, MSEC exactly three digits, and SEC
// small enough for time_ms(); SERIAL is any 64-bit value, its 19 or 20
// digits (past Digits' reach) read by from_chars.
ParseError ParseStamp(std::string_view text, AuditRecord* record, size_t* body_start) {
  if (!HasAt(text, 0, "audit(")) return ParseError::kNoTimestamp;
  const char* p = text.data() + 6;
  const char* end = text.data() + text.size();
  uint64_t sec = 0, msec = 0, serial = 0;
  if (!Digits(&p, end, &sec) || sec > kMaxStampSeconds || p == end || *p++ != '.')
    return ParseError::kBadTimestamp;
  const char* msec_start = p;
  if (!Digits(&p, end, &msec) || p - msec_start != 3) return ParseError::kBadTimestamp;
  if (p == end || *p++ != ':') return ParseError::kNoSerial;
  if (!Digits(&p, end, &serial)) {
    auto long_serial = std::from_chars(p, end, serial);
    if (long_serial.ec != std::errc()) return ParseError::kNoSerial;
    p = long_serial.ptr;
  }
  if (p == end || *p++ != ')') return ParseError::kNoSerial;
  if (p != end && *p == ':') ++p;
  record->time_sec = static_cast<int64_t>(sec);
  record->time_msec = static_cast<int32_t>(msec);
  record->serial = serial;
  *body_start = static_cast<size_t>(p - text.data());
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

constexpr EnumCode<ParseError> kParseErrorTexts[] = {
    {ParseError::kNone, "ok"},
    {ParseError::kEmptyLine, "empty line"},
    {ParseError::kTooLong, "line longer than 64 KiB"},
    {ParseError::kNoType, "no type= field"},
    {ParseError::kEmptyType, "empty type="},
    {ParseError::kNoTimestamp, "no audit(...) timestamp"},
    {ParseError::kBadTimestamp, "malformed audit(SEC.MSEC:SERIAL) time"},
    {ParseError::kNoSerial, "audit(...) without serial"},
};
static_assert(CodesAreDistinct(kParseErrorTexts) &&
              CodesCover(kParseErrorTexts, ParseError::kNone, ParseError::kNoSerial));

}  // namespace

std::string_view ParseErrorText(ParseError error) { return CodeText(kParseErrorTexts, error); }

ParseError ParseRecordHeader(std::string_view line, AuditRecord* record) {
  ResetRecord(line, record);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return ParseError::kEmptyLine;
  if (line.size() > kMaxLineBytes) return ParseError::kTooLong;

  // Fast path: audit.log lines start with "type=" or "node="; otherwise
  // skip a syslog prefix by searching for them.
  size_t pos = 0;
  if (!HasAt(line, 0, "node=") && !HasAt(line, 0, "type=")) {
    size_t node_at = line.find(" node=");
    size_t type_at = line.find(" type=");
    if (type_at == std::string_view::npos) return ParseError::kNoType;
    pos = (node_at != std::string_view::npos && node_at < type_at) ? node_at + 1 : type_at + 1;
  }
  if (HasAt(line, pos, "node=")) {
    size_t end = FindValueEnd(line, pos + 5);
    record->node = line.substr(pos + 5, end - pos - 5);
    pos = end;
    while (pos < line.size() && line[pos] == ' ') ++pos;
  }
  if (!HasAt(line, pos, "type=")) return ParseError::kNoType;
  size_t type_end = FindValueEnd(line, pos + 5);
  record->type_name = line.substr(pos + 5, type_end - pos - 5);
  if (record->type_name.empty()) return ParseError::kEmptyType;
  record->type = MessageTypeFromName(record->type_name);
  pos = type_end;
  while (pos < line.size() && line[pos] == ' ') ++pos;
  if (HasAt(line, pos, "msg=")) pos += 4;

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

}  // namespace recorder
