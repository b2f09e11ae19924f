#include "evtx/binxml_value.h"

#include <fmt/format.h>

#include <iterator>

#include "util/clock.h"

namespace recorder::evtx {
namespace {

template <typename T>
T Get(std::string_view bytes) {
  T value;
  std::memcpy(&value, bytes.data(), sizeof(T));
  return value;
}

void AppendIsoTime(int64_t unix_seconds, std::string_view fraction, std::string* out) {
  std::string date = IsoUtcMs(unix_seconds * 1000);  // "YYYY-MM-DDTHH:MM:SS.000Z"
  out->append(date, 0, 19);
  out->push_back('.');
  out->append(fraction);
  out->push_back('Z');
}
}  // namespace

void AppendUtf8(uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xc0 | code >> 6));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | code >> 12));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | code >> 18));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

bool AppendUtf16(const char* p, size_t units, std::string* out) {
  for (size_t i = 0; i < units; ++i) {
    uint32_t code = Le16(p + 2 * i);
    if (code == 0) break;
    if (code >= 0xd800 && code <= 0xdbff) {
      if (i + 1 >= units) return false;
      const uint32_t low = Le16(p + 2 * (i + 1));
      if (low < 0xdc00 || low > 0xdfff) return false;
      code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      ++i;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return false;
    }
    AppendUtf8(code, out);
  }
  return true;
}

bool RenderValue(uint8_t type, std::string_view b, std::string* out) {
  auto fixed = [&](size_t size) { return b.size() == size; };
  // An integer of T's size, in decimal (an int8_t as a number too).
  auto decimal = [&]<typename T>(T) {
    if (!fixed(sizeof(T))) return false;
    fmt::format_to(std::back_inserter(*out), "{}", Get<T>(b));
    return true;
  };
  switch (type) {
    case kString:
      return AppendUtf16(b.data(), b.size() / 2, out);
    case kInt8:
      return decimal(int8_t{});
    case kUInt8:
      return decimal(uint8_t{});
    case kInt16:
      return decimal(int16_t{});
    case kUInt16:
      return decimal(uint16_t{});
    case kInt32:
      return decimal(int32_t{});
    case kUInt32:
      return decimal(uint32_t{});
    case kInt64:
      return decimal(int64_t{});
    case kUInt64:
      return decimal(uint64_t{});
    case kSizeT:  // 32 or 64 bits, by the value's size
      return fixed(4) ? decimal(uint32_t{}) : decimal(uint64_t{});
    case kHexInt32:
      if (!fixed(4)) return false;
      fmt::format_to(std::back_inserter(*out), "0x{:08x}", Get<uint32_t>(b));
      return true;
    case kHexInt64:
      if (!fixed(8)) return false;
      fmt::format_to(std::back_inserter(*out), "0x{:016x}", Get<uint64_t>(b));
      return true;
    case kBool:
      if (!fixed(4)) return false;
      out->append(Get<uint32_t>(b) != 0 ? "true" : "false");
      return true;
    case kBinary:
      for (char byte : b) fmt::format_to(std::back_inserter(*out), "{:02X}", uint8_t(byte));
      return true;
    case kGuid:
      if (!fixed(16)) return false;
      fmt::format_to(std::back_inserter(*out), "{{{:08X}-{:04X}-{:04X}-", Get<uint32_t>(b),
                     Get<uint16_t>(b.substr(4)), Get<uint16_t>(b.substr(6)));
      for (size_t i = 8; i < 16; ++i) {
        if (i == 10) out->push_back('-');
        fmt::format_to(std::back_inserter(*out), "{:02X}", uint8_t(b[i]));
      }
      out->push_back('}');
      return true;
    case kFileTime: {
      if (!fixed(8)) return false;
      const uint64_t ticks = Get<uint64_t>(b);
      const int64_t seconds = static_cast<int64_t>(ticks / 10'000'000) - kFileTimeEpochSeconds;
      AppendIsoTime(seconds, fmt::format("{:07}00", ticks % 10'000'000), out);
      return true;
    }
    case kSystemTime: {
      if (!fixed(16)) return false;
      const auto field = [&](size_t i) { return Get<uint16_t>(b.substr(2 * i)); };
      fmt::format_to(std::back_inserter(*out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                     field(0), field(1), field(3), field(4), field(5), field(6), field(7));
      return true;
    }
    case kSid: {
      if (b.size() < 8) return false;
      const uint8_t revision = static_cast<uint8_t>(b[0]);
      const uint8_t parts = static_cast<uint8_t>(b[1]);
      if (b.size() < 8 + 4 * size_t{parts}) return false;
      uint64_t authority = 0;
      for (int i = 2; i < 8; ++i) authority = authority << 8 | static_cast<uint8_t>(b[i]);
      fmt::format_to(std::back_inserter(*out), "S-{}-{}", revision, authority);
      for (size_t i = 0; i < parts; ++i)
        fmt::format_to(std::back_inserter(*out), "-{}", Get<uint32_t>(b.substr(8 + 4 * i)));
      return true;
    }
    default:
      return false;  // NULL is handled by the caller; arrays, floats, ANSI, BinXml: libevtx
  }
}

}  // namespace recorder::evtx
