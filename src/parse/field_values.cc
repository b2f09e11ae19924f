#include "parse/field_values.h"

namespace recorder {

bool AppendHexDecoded(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 2 != 0) return false;
  const size_t start = out->size();
  out->resize(start + text.size() / 2);
  char* dst = out->data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(text.data());
  // Decode and validate in one pass; on a non-hex byte undo the append.
  unsigned char bad = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    const unsigned char hi = kHexDigits.value[src[i]];
    const unsigned char lo = kHexDigits.value[src[i + 1]];
    bad |= hi | lo;
    dst[i / 2] = static_cast<char>(hi << 4 | lo);
  }
  if (bad & 0xf0) {
    out->resize(start);
    return false;
  }
  return true;
}

void DecodeUntrusted(const AuditField& field, std::string* value_out) {
  value_out->clear();
  if (field.spelling == ValueSpelling::kBare && AppendHexDecoded(field.value, value_out)) return;
  value_out->assign(field.value);
}

std::string DecodeUntrusted(const AuditField& field) {
  std::string out;
  DecodeUntrusted(field, &out);
  return out;
}

}  // namespace recorder
