#include "parse/field_values.h"

namespace recorder {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool AppendHexDecoded(std::string_view text, std::string* out) {
  if (!IsHexText(text)) return false;
  size_t start = out->size();
  out->resize(start + text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2)
    (*out)[start + i / 2] = static_cast<char>(HexDigit(text[i]) << 4 | HexDigit(text[i + 1]));
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
