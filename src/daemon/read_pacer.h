// When the event loop reads the netlink source next. Every wakeup costs a
// poll, two context switches and the syscalls' exits, which on a virtual
// machine cost more than the records they bring; at a steady trickle of
// records (a few hundred to a few thousand a second) the recorder would
// spend most of its CPU waking up for a handful of records each time.
//
// So a read that emptied the socket and found records, but few, arms the
// pacer: the loop stops polling the socket, and reads it again `pace_ms`
// later without waiting for it to become readable. Meanwhile the records
// wait in the socket's buffer, and the next read takes many per syscall.
// A read that found nothing disarms it (an idle recorder sleeps in poll,
// no timer); so does a large one, or one that stopped before the socket
// was empty: under a flood reading goes on at once, so that the socket
// never fills. `max_paced_records` bounds what a paced socket holds: the
// caller derives it from the socket's buffer size.
//
// Time comes in as an argument (monotonic ms). Not thread-safe: the event
// loop's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace recorder::daemon {

class ReadPacer {
 public:
  // `max_paced_records` 0: never paced (every read follows readiness).
  ReadPacer(int64_t pace_ms, size_t max_paced_records)
      : pace_ms_(pace_ms), max_paced_records_(max_paced_records) {}

  // After a read at `now_ms` that took `records`; `drained`: it stopped
  // because the socket was empty.
  void AfterRead(int64_t now_ms, bool drained, size_t records) {
    armed_ = drained && records > 0 && records < max_paced_records_ && pace_ms_ > 0;
    if (armed_) next_read_ms_ = now_ms + pace_ms_;
  }
  // Armed: the loop leaves the socket out of its poll until ReadDue.
  bool armed() const { return armed_; }
  // Armed and its time came: read now, readable or not.
  bool ReadDue(int64_t now_ms) const { return armed_ && now_ms >= next_read_ms_; }
  // When an armed pacer is due (only meaningful when armed()).
  int64_t next_read_ms() const { return next_read_ms_; }

 private:
  int64_t pace_ms_;
  size_t max_paced_records_;
  bool armed_ = false;
  int64_t next_read_ms_ = 0;
};

// The records a paced socket of `receive_buffer_bytes` (SO_RCVBUF as the
// kernel reports it) may take per read: at most an eighth of the buffer,
// counting each record's kernel-side size generously, so that a burst
// many times the rate just seen still fits until the next read.
inline size_t MaxPacedRecords(int64_t receive_buffer_bytes) {
  constexpr int64_t kBytesPerQueuedRecord = 4096;
  if (receive_buffer_bytes <= 0) return 0;
  return static_cast<size_t>(receive_buffer_bytes / 8 / kBytesPerQueuedRecord);
}

}  // namespace recorder::daemon
