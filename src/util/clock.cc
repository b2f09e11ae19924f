#include "util/clock.h"

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
int64_t MonotonicMs() { return Read(CLOCK_MONOTONIC, 1000); }
int64_t MonotonicUs() { return Read(CLOCK_MONOTONIC, 1'000'000); }

}  // namespace recorder
