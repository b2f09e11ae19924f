#pragma once
// The process's clocks, in the units the loop, the tasks and the store
// use. Pure code takes its time as an argument; only the shell (the
// daemon loop, the store's commit timer) reads these.

#include <cstdint>
#include <string>

namespace recorder {

// CLOCK_REALTIME, since the Unix epoch.
int64_t WallMs();
int64_t WallNs();
// CLOCK_MONOTONIC: never stepped, for schedules and timeouts.
int64_t MonotonicMs();
int64_t MonotonicUs();
int64_t MonotonicNs();

// Unix milliseconds as ISO-8601 UTC with milliseconds:
// "2023-11-14T22:13:20.250Z" (times before 1970 included). A time outside
// the years 1..9999 (a damaged record's) is the number of milliseconds.
std::string IsoUtcMs(int64_t unix_ms);

}  // namespace recorder
