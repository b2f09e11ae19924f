#include "daemon/event_counters.h"

#include <algorithm>

namespace recorder::daemon {

void EventCounters::Add(size_t kind, int64_t now_ms) {
  if (kind >= kEventKinds) return;
  ++totals_[kind];
  int64_t second = now_ms / 1000;
  Bucket& bucket = buckets_[kind][static_cast<size_t>(second % kWindowSeconds)];
  if (bucket.second != second) {
    bucket.second = second;
    bucket.count = 0;
  }
  ++bucket.count;
}

uint64_t EventCounters::total() const {
  uint64_t sum = 0;
  for (uint64_t count : totals_) sum += count;
  return sum;
}

double EventCounters::PerSecond(size_t kind, int64_t now_ms, int64_t start_ms) const {
  if (kind >= kEventKinds) return 0;
  int64_t now_second = now_ms / 1000;
  // Whole seconds only: the current second is still filling up.
  int64_t first = now_second - kWindowSeconds;
  uint64_t sum = 0;
  for (const Bucket& bucket : buckets_[kind]) {
    if (bucket.second >= first && bucket.second < now_second) sum += bucket.count;
  }
  int64_t span = std::min<int64_t>(kWindowSeconds, now_second - start_ms / 1000);
  if (span <= 0) return 0;
  return static_cast<double>(sum) / static_cast<double>(span);
}

uint64_t EventCounters::LastSecond(size_t kind, int64_t now_ms) const {
  if (kind >= kEventKinds) return 0;
  int64_t second = now_ms / 1000 - 1;
  const Bucket& bucket = buckets_[kind][static_cast<size_t>(second % kWindowSeconds)];
  return bucket.second == second ? bucket.count : 0;
}

}  // namespace recorder::daemon
