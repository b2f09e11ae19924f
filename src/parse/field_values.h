// Turning field text into values: numbers and the kernel's "untrusted
// string" encoding (quoted text, or bare hex when the text holds spaces,
// quotes, control or non-ASCII bytes).
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parse/audit_record.h"

namespace recorder {

template <typename Int>
std::optional<Int> ParseInt(std::string_view text, int base = 10) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline bool IsHexText(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) return false;
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
