// Counts audit records lost between the kernel and us, from gaps in the
// audit serial numbers of a netlink stream (unicast or multicast).
//
// The rule, and why. The kernel numbers audit events from one global
// counter when an event logs its first record; all records of the event
// carry that serial. Every event the kernel logs reaches the netlink
// stream (unicast: the audit daemon; multicast: every reader), so a serial
// that never arrives is an event lost after it was numbered: dropped by
// the rate limit (the kernel's `lost` counts that too), by a failed
// allocation, or because our socket overflowed (ENOBUFS). Losses to a
// full backlog mostly happen before numbering and show only in `lost`.
//
// Serials do NOT arrive in order: two CPUs number two events and queue
// their records in either order, so a later serial before an earlier one
// is normal, and the records of one event repeat its serial. A missing
// serial is therefore a hole that may still fill; it counts as lost only
// when it stayed open for `hold_ms` of our reading time (measured when
// we read, so a pause of the reader does not age holes by itself), or
// when more than `max_holes` holes are open (the oldest go first), or at
// Finish. A serial that arrives after its hole was counted is not taken
// back (it cannot be told from a repeat without remembering every
// serial). Serials are 32-bit in the kernel: a serial
// far below the highest seen is a wrap (or a reboot for a replayed
// stream) and starts over without a gap.
//
// Pure: time comes in as `now_ms`. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace recorder {

struct SerialGapOptions {
  int64_t hold_ms = 2000;
  size_t max_holes = 4096;
};

class SerialGapCounter {
 public:
  explicit SerialGapCounter(SerialGapOptions options = {}) : options_(options) {}

  // One record's serial, read at `now_ms`; ages the open holes.
  void Note(uint64_t serial, int64_t now_ms);
  // Counts the holes open for hold_ms by `now_ms` (also called by Note).
  void Expire(int64_t now_ms);
  // The stream ended: every open hole is lost.
  void Finish();

  uint64_t lost() const { return lost_; }  // serials counted as never received
  uint64_t gaps() const { return gaps_; }  // runs of consecutive lost serials
  size_t open_holes() const { return holes_.size(); }

 private:
  struct Hole {
    uint64_t end = 0;  // one past the last missing serial
    int64_t since_ms = 0;
  };
  void CountLost(std::map<uint64_t, Hole>::iterator hole);

  SerialGapOptions options_;
  bool started_ = false;
  uint64_t highest_ = 0;
  std::map<uint64_t, Hole> holes_;  // first missing serial -> hole
  uint64_t lost_ = 0;
  uint64_t gaps_ = 0;
};

}  // namespace recorder
