#include "investigate/time_spec.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <ctime>

namespace recorder::investigate {
namespace {

Status BadTime(std::string_view text) {
  return Status::Errorf(StatusCode::kInvalid,
                        "bad time '{}': use ISO-8601 (2026-11-25T17:57:13Z, 2026-11-25 17:57), "
                        "a time before now (-15m, -2h, -3d, -30s) or epoch seconds",
                        text);
}

// Reads exactly `digits` decimal digits at `*pos`.
bool ReadNumber(std::string_view text, size_t* pos, size_t digits, int* out) {
  if (*pos + digits > text.size()) return false;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = text[*pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  *pos += digits;
  *out = value;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
// days_from_civil): timegm without the process's TZ or its range limits.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Result<int64_t> ParseRelative(std::string_view text, int64_t now_ms) {
  int64_t amount = 0;
  const char* begin = text.data() + 1;
  const char* end = text.data() + text.size() - 1;
  auto [ptr, ec] = std::from_chars(begin, end, amount);
  if (ec != std::errc() || ptr != end || amount < 0) return BadTime(text);
  int64_t unit_ms = 0;
  switch (text.back()) {
    case 's':
      unit_ms = 1000;
      break;
    case 'm':
      unit_ms = int64_t{60} * 1000;
      break;
    case 'h':
      unit_ms = int64_t{3600} * 1000;
      break;
    case 'd':
      unit_ms = int64_t{86400} * 1000;
      break;
    default:
      return BadTime(text);
  }
  return now_ms - amount * unit_ms;
}

Result<int64_t> ParseEpoch(std::string_view text) {
  const size_t dot = text.find('.');
  int64_t seconds = 0;
  std::string_view whole = text.substr(0, dot);
  auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || ptr != whole.data() + whole.size()) return BadTime(text);
  int64_t ms = seconds * 1000;
  if (dot != std::string_view::npos) {
    std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty()) return BadTime(text);
    int64_t scale = 100;
    for (char c : fraction) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return BadTime(text);
      ms += (c - '0') * scale;
      scale /= 10;
    }
  }
  return ms;
}

Result<int64_t> ParseIso(std::string_view text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millis = 0;
  if (!ReadNumber(text, &pos, 4, &year) || pos >= text.size() || text[pos++] != '-' ||
      !ReadNumber(text, &pos, 2, &month) || pos >= text.size() || text[pos++] != '-' ||
      !ReadNumber(text, &pos, 2, &day))
    return BadTime(text);
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!ReadNumber(text, &pos, 2, &hour) || pos >= text.size() || text[pos++] != ':' ||
        !ReadNumber(text, &pos, 2, &minute))
      return BadTime(text);
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!ReadNumber(text, &pos, 2, &second)) return BadTime(text);
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int scale = 100;
        const size_t start = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return BadTime(text);
      }
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return BadTime(text);
  const int64_t days = DaysFromCivil(year, month, day);
  const int64_t wall_ms =
      ((days * 24 + hour) * 60 + minute) * 60000 + int64_t{second} * 1000 + millis;
  if (pos == text.size()) {
    // No zone: the wall-clock time where the responder sits.
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    tm.tm_isdst = -1;
    const time_t local = mktime(&tm);
    if (local == static_cast<time_t>(-1)) return BadTime(text);
    return static_cast<int64_t>(local) * 1000 + millis;
  }
  if (text[pos] == 'Z' && pos + 1 == text.size()) return wall_ms;
  if (text[pos] != '+' && text[pos] != '-') return BadTime(text);
  const int sign = text[pos++] == '-' ? -1 : 1;
  int off_hours = 0, off_minutes = 0;
  if (!ReadNumber(text, &pos, 2, &off_hours)) return BadTime(text);
  if (pos < text.size() && text[pos] == ':') ++pos;
  if (pos < text.size() && !ReadNumber(text, &pos, 2, &off_minutes)) return BadTime(text);
  if (pos != text.size() || off_hours > 23 || off_minutes > 59) return BadTime(text);
  return wall_ms - int64_t{sign} * (off_hours * 60 + off_minutes) * 60000;
}

}  // namespace

Result<int64_t> ParseTime(std::string_view text, int64_t now_ms) {
  if (text == "now") return now_ms;
  if (text.size() >= 3 && text[0] == '-') return ParseRelative(text, now_ms);
  if (!text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos)
    return ParseEpoch(text);
  if (text.size() >= 10) return ParseIso(text);
  return BadTime(text);
}

std::string FormatTime(int64_t ms, bool utc) {
  const int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int millis = static_cast<int>(ms - seconds * 1000);
  const time_t t = static_cast<time_t>(seconds);
  std::tm tm{};
  if (utc ? gmtime_r(&t, &tm) == nullptr : localtime_r(&t, &tm) == nullptr)
    return fmt::format("{}", ms);
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  if (utc) return out + "Z";
  const long offset_minutes = tm.tm_gmtoff / 60;
  const long magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  return out + fmt::format("{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', magnitude / 60,
                           magnitude % 60);
}

}  // namespace recorder::investigate
