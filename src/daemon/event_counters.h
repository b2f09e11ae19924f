// What the daemon counts about recorded events: totals by kind and
// events/s by kind over the last minute. Pure: time comes in as `now_ms`,
// so tests drive it without a clock.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "normalize/typed_event.h"

namespace recorder::daemon {

// Indexes follow EventBody's alternatives (named by EventKindName):
// process_start, process_end, file, network, security, module, image.
inline constexpr size_t kEventKinds = std::variant_size_v<EventBody>;

class EventCounters {
 public:
  static constexpr int kWindowSeconds = 60;

  void Add(const TypedEvent& event, int64_t now_ms) { Add(event.body.index(), now_ms); }
  void Add(size_t kind, int64_t now_ms);

  uint64_t total(size_t kind) const { return totals_[kind]; }
  uint64_t total() const;
  // Mean events per second of `kind` over the last kWindowSeconds whole
  // seconds before `now_ms` (or since `start_ms` when that is shorter).
  double PerSecond(size_t kind, int64_t now_ms, int64_t start_ms) const;
  // Events in the most recent complete second (the TTY line's "now").
  uint64_t LastSecond(size_t kind, int64_t now_ms) const;

 private:
  struct Bucket {
    int64_t second = -1;
    uint64_t count = 0;
  };
  std::array<uint64_t, kEventKinds> totals_{};
  std::array<std::array<Bucket, kWindowSeconds>, kEventKinds> buckets_{};
};

}  // namespace recorder::daemon
