// Groups records into whole events.
//
// Records of different events interleave and may arrive out of order; an
// event is identified by (node, serial) and its timestamp. The assembler
// is a pure state machine: time comes in as an argument (the feeder's
// clock when live, the records' own time when replaying), so it is tested
// without threads or sleeps. Not thread-safe: one owner feeds it.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "assemble/audit_event.h"
#include "parse/audit_record.h"

namespace recorder {

struct AssemblerOptions {
  // An event with no EOE is closed once `now` is this far past its last record.
  int64_t max_event_age_ms = 3000;
  // ... or once this many records of other events arrived after its last one.
  uint64_t max_records_behind = 4096;
  // At most this many events open at once; past it the oldest is closed.
  size_t max_open_events = 8192;
  // An event with more records than this is closed (bounds memory for a
  // runaway EXECVE); later records of it form a new, partial event.
  size_t max_records_per_event = 4096;
};

struct AssemblerStats {
  uint64_t records = 0;
  uint64_t events = 0;
  uint64_t closed_by_eoe = 0;  // PROCTITLE or EOE
  uint64_t closed_single = 0;
  uint64_t closed_by_age = 0;
  uint64_t closed_by_window = 0;
  uint64_t closed_by_capacity = 0;
  uint64_t closed_by_serial_reuse = 0;
  uint64_t closed_by_flush = 0;
  uint64_t orphan_eoe = 0;  // EOE after its event closed at PROCTITLE (normal when live)
};

class EventAssembler {
 public:
  using EventList = std::vector<std::unique_ptr<AuditEvent>>;

  explicit EventAssembler(AssemblerOptions options = {});
  ~EventAssembler();

  // Adds a copy of `record` (its header is enough: the copy's fields are
  // split from its body, see AuditEvent::Add); events that complete are
  // appended to *done. Returns the copy, or nullptr when the record was
  // dropped (an EOE after its event). The copy is valid until the next
  // call on this assembler: a later record of its event may move it.
  const AuditRecord* Feed(const AuditRecord& record, int64_t now_ms, EventList* done);
  // Closes events that aged past the limits as of `now_ms`.
  void Age(int64_t now_ms, EventList* done);
  // Closes every open event (end of input, shutdown).
  void Flush(EventList* done);

  // Takes back events the caller is done with (their views die here) for
  // reuse by later Feed calls, and empties *events.
  void Recycle(EventList* events);

  size_t open_events() const { return open_.size(); }
  const AssemblerStats& stats() const { return stats_; }

 private:
  struct OpenEvent;
  struct Key {
    std::string_view node;  // points into the event's own copy
    uint64_t serial;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept {
      // Most logs have no node=: skip hashing the empty name.
      const size_t serial_hash = std::hash<uint64_t>()(k.serial);
      return k.node.empty() ? serial_hash
                            : serial_hash ^ (std::hash<std::string_view>()(k.node) << 1);
    }
  };
  using OpenList = std::list<OpenEvent>;

  void Close(OpenList::iterator it, CloseReason reason, EventList* done);
  void Emit(std::unique_ptr<AuditEvent> event, CloseReason reason, EventList* done);
  std::unique_ptr<AuditEvent> NewEvent();

  AssemblerOptions options_;
  OpenList open_;  // oldest first
  std::unordered_map<Key, OpenList::iterator, KeyHash> index_;
  AssemblerStats stats_;
  EventList free_;  // recycled, empty events
};

}  // namespace recorder
