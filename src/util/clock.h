#pragma once
// The process's clocks, in the units the loop, the tasks and the store
// use. Pure code takes its time as an argument; only the shell (the
// daemon loop, the store's commit timer) reads these.

#include <cstdint>

namespace recorder {

int64_t WallMs();       // CLOCK_REALTIME, ms since the Unix epoch
int64_t MonotonicMs();  // CLOCK_MONOTONIC: never stepped, for schedules and timeouts
int64_t MonotonicUs();

}  // namespace recorder
