#include "parse/field_values.h"

namespace recorder {
namespace {

// Nibble value of each byte, 0xff for a non-hex byte: one table load per
// digit instead of three range tests (PROCTITLE and hex argv are decoded
// for every exec).
struct HexTable {
  unsigned char value[256];
  constexpr HexTable() : value() {
    for (int c = 0; c < 256; ++c) value[c] = 0xff;
    for (int c = 0; c < 10; ++c) value['0' + c] = static_cast<unsigned char>(c);
    for (int c = 0; c < 6; ++c) {
      value['a' + c] = static_cast<unsigned char>(10 + c);
      value['A' + c] = static_cast<unsigned char>(10 + c);
    }
  }
};
constexpr HexTable kHex;

}  // namespace

bool AppendHexDecoded(std::string_view text, std::string* out) {
  if (text.empty() || text.size() % 2 != 0) return false;
  const size_t start = out->size();
  out->resize(start + text.size() / 2);
  char* dst = out->data() + start;
  const auto* src = reinterpret_cast<const unsigned char*>(text.data());
  // Decode and validate in one pass; on a non-hex byte undo the append.
  unsigned char bad = 0;
  for (size_t i = 0; i < text.size(); i += 2) {
    const unsigned char hi = kHex.value[src[i]];
    const unsigned char lo = kHex.value[src[i + 1]];
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
