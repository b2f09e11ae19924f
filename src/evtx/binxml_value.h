// The values of EVTX binary XML: their types, and their text as libevtx
// gives it (see binxml.h for why it must be the same).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace recorder::evtx {

// Value types ([MS-EVEN6] 2.2.19 and libevtx's documentation).
enum BinXmlType : uint8_t {
  kNull = 0x00,
  kString = 0x01,
  kInt8 = 0x03,
  kUInt8 = 0x04,
  kInt16 = 0x05,
  kUInt16 = 0x06,
  kInt32 = 0x07,
  kUInt32 = 0x08,
  kInt64 = 0x09,
  kUInt64 = 0x0a,
  kBool = 0x0d,
  kBinary = 0x0e,
  kGuid = 0x0f,
  kSizeT = 0x10,
  kFileTime = 0x11,
  kSystemTime = 0x12,
  kSid = 0x13,
  kHexInt32 = 0x14,
  kHexInt64 = 0x15,
  kBinXml = 0x21,
};
constexpr uint8_t kArrayFlag = 0x80;

// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
inline constexpr int64_t kFileTimeEpochSeconds = 11'644'473'600;

// Little-endian reads (the machine is little-endian, like the format).
inline uint16_t Le16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}
inline uint32_t Le32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // the machine is little-endian, like the format
  return v;
}
inline uint64_t Le64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// `code` (a Unicode code point) appended as UTF-8.
void AppendUtf8(uint32_t code, std::string* out);

// UTF-16LE `units` code units at `p` appended as UTF-8, up to the first
// NUL. False on a lone surrogate (libevtx's converter has its own view of
// those; such a record goes to it).
bool AppendUtf16(const char* p, size_t units, std::string* out);

// A substitution value of `type` rendered as libevtx renders it as a
// string (libfvalue's formats: decimal integers, 0x and 16 or 8 hex
// digits, {GUID} in capitals, ISO-8601 times with 9 or 3 decimals and a
// Z, S-1-... SIDs, binary as capital hex); false for NULL and for what
// this reader leaves to libevtx (arrays, floats, ANSI strings, binary XML).
bool RenderValue(uint8_t type, std::string_view bytes, std::string* out);

}  // namespace recorder::evtx
