#include "source/serial_gaps.h"

#include <iterator>

namespace recorder {
namespace {

// Further below the highest serial than this is a 32-bit wrap (or a
// restarted kernel), not a late record.
constexpr uint64_t kWrapDistance = uint64_t{1} << 31;

}  // namespace

void SerialGapCounter::Note(uint64_t serial, int64_t now_ms) {
  if (serial == 0) return;  // records without a serial are not numbered
  if (!started_ || (serial < highest_ && highest_ - serial > kWrapDistance)) {
    // The first serial of the stream, or the counter started over.
    Finish();
    started_ = true;
    highest_ = serial;
    return;
  }
  if (serial > highest_) {
    if (serial > highest_ + 1) holes_.emplace(highest_ + 1, Hole{serial, now_ms});
    highest_ = serial;
  } else if (serial < highest_ && !holes_.empty()) {
    // Late, or a repeat of one already seen: only a hole can hold it.
    auto hole = holes_.upper_bound(serial);
    if (hole != holes_.begin()) {
      --hole;
      if (serial < hole->second.end) {
        const uint64_t first = hole->first;
        const Hole rest = hole->second;
        holes_.erase(hole);
        if (first < serial) holes_.emplace(first, Hole{serial, rest.since_ms});
        if (serial + 1 < rest.end) holes_.emplace(serial + 1, Hole{rest.end, rest.since_ms});
      }
    }
  }
  Expire(now_ms);
}

void SerialGapCounter::Expire(int64_t now_ms) {
  // Holes open in serial order and a split keeps its time: the first one
  // is the oldest.
  while (!holes_.empty() && (holes_.size() > options_.max_holes ||
                             now_ms - holes_.begin()->second.since_ms >= options_.hold_ms))
    CountLost(holes_.begin());
}

void SerialGapCounter::Finish() {
  while (!holes_.empty()) CountLost(holes_.begin());
}

void SerialGapCounter::CountLost(std::map<uint64_t, Hole>::iterator hole) {
  lost_ += hole->second.end - hole->first;
  ++gaps_;
  holes_.erase(hole);
}

}  // namespace recorder
