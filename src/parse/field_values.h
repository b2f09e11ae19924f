// Turning field text into values: numbers and the kernel's "untrusted
// string" encoding (quoted text, or bare hex when the text holds spaces,
// quotes, control or non-ASCII bytes).
#pragma once

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "parse/audit_record.h"

namespace recorder {

// A decimal of at most 18 digits (and an optional '-'), nearly every
// pid, uid and timestamp of an audit record: *magnitude and *negative, or
// false when `text` is not that shape (including any non-digit).
inline bool ShortDecimal(std::string_view text, uint64_t* magnitude, bool* negative) {
  const char* p = text.data();
  const char* end = p + text.size();
  *negative = p != end && *p == '-';
  if (*negative) ++p;
  if (p == end || end - p > 18) return false;
  uint64_t value = 0;
  for (; p != end; ++p) {
    const unsigned digit = static_cast<unsigned char>(*p) - unsigned{'0'};
    if (digit > 9) return false;
    value = value * 10 + digit;  // < 10^18: no overflow
  }
  *magnitude = value;
  return true;
}

// Nibble value of each byte, 0xff for a non-hex byte: one table load per
// digit instead of three range tests (PROCTITLE and hex argv are decoded
// for every exec, arch and a0..a3 read for every syscall).
struct HexDigitTable {
  unsigned char value[256];
  constexpr HexDigitTable() : value() {
    for (int c = 0; c < 256; ++c) value[c] = 0xff;
    for (int c = 0; c < 10; ++c) value['0' + c] = static_cast<unsigned char>(c);
    for (int c = 0; c < 6; ++c) {
      value['a' + c] = static_cast<unsigned char>(10 + c);
      value['A' + c] = static_cast<unsigned char>(10 + c);
    }
  }
};
inline constexpr HexDigitTable kHexDigits;

// 1 to 16 hex digits, either case, no sign or prefix: a syscall record's
// arch and a0..a3. *value, or false when `text` is not that shape.
inline bool ShortHex(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 16) return false;
  uint64_t v = 0;
  for (char c : text) {
    const unsigned digit = kHexDigits.value[static_cast<unsigned char>(c)];
    if (digit > 15) return false;
    v = (v << 4) | digit;
  }
  *value = v;
  return true;
}

// The whole of `text` as an integer in `base`, as std::from_chars reads
// it (a '-' only for signed types, no '+' or spaces), or nullopt.
template <typename Int>
std::optional<Int> ParseInt(std::string_view text, int base = 10) {
  // The short decimal and hex cases by hand: the four syscall arguments
  // of every event come through here, and from_chars's general path costs
  // several times as much for them.
  uint64_t magnitude = 0;
  bool negative = false;
  if constexpr (!std::is_signed_v<Int>) {
    if (base == 16 && ShortHex(text, &magnitude)) {
      if (magnitude > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return std::nullopt;
      return static_cast<Int>(magnitude);
    }
  }
  if (base == 10 && ShortDecimal(text, &magnitude, &negative)) {
    if (negative) {
      if constexpr (!std::is_signed_v<Int>) {
        return std::nullopt;
      } else {
        const auto value = -static_cast<int64_t>(magnitude);
        if (value < static_cast<int64_t>(std::numeric_limits<Int>::min())) return std::nullopt;
        return static_cast<Int>(value);
      }
    }
    if (magnitude > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return std::nullopt;
    return static_cast<Int>(magnitude);
  }
  // Everything else, errors included, as from_chars decides.
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline bool IsHexText(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  for (char c : text)
    if (kHexDigits.value[static_cast<unsigned char>(c)] > 15) return false;
  return true;
}

// Appends the bytes that hex `text` spells to *out. Returns false (and
// appends nothing) when `text` is not even-length hex.
bool AppendHexDecoded(std::string_view text, std::string* out);

// The text of an untrusted-string field (name=, cwd=, comm=, exe=, aN=,
// proctitle=): quoted values as written, bare hex decoded, anything else
// (e.g. "(null)") as written. `value_out` is overwritten.
void DecodeUntrusted(const AuditField& field, std::string* value_out);
std::string DecodeUntrusted(const AuditField& field);

}  // namespace recorder
