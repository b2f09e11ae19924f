#include "util/clock.h"

#include <fmt/format.h>
#include <time.h>

namespace recorder {
namespace {

int64_t Read(clockid_t clock, int64_t units_per_second) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<int64_t>(now.tv_sec) * units_per_second +
         now.tv_nsec / (1'000'000'000 / units_per_second);
}

}  // namespace

int64_t WallMs() { return Read(CLOCK_REALTIME, 1000); }
int64_t WallNs() { return Read(CLOCK_REALTIME, 1'000'000'000); }
int64_t MonotonicMs() { return Read(CLOCK_MONOTONIC, 1000); }
int64_t MonotonicUs() { return Read(CLOCK_MONOTONIC, 1'000'000); }
int64_t MonotonicNs() { return Read(CLOCK_MONOTONIC, 1'000'000'000); }

std::string IsoUtcMs(int64_t unix_ms) {
  constexpr int64_t kYear1Ms = -62'135'596'800'000;
  constexpr int64_t kYear10000Ms = 253'402'300'800'000;
  if (unix_ms < kYear1Ms || unix_ms >= kYear10000Ms) return fmt::format("{}", unix_ms);
  // gmtime_r, not std::chrono: system_clock counts nanoseconds and
  // overflows after the year 2262.
  const int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const time_t time = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&time, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                     unix_ms - seconds * 1000);
}

}  // namespace recorder
