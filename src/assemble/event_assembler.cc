#include "assemble/event_assembler.h"

#include "parse/message_types.h"

namespace recorder {

struct EventAssembler::OpenEvent {
  std::unique_ptr<AuditEvent> event;
  int64_t time_ms = 0;           // the records' own timestamp
  int64_t last_seen_ms = 0;      // `now` when its last record arrived
  uint64_t last_record_seq = 0;  // stats_.records when its last record arrived
};

namespace {
// Recycled events kept for reuse: enough for a sink batch's worth of
// events closed between two drains, small enough not to pin memory.
constexpr size_t kMaxFreeEvents = 256;
}  // namespace

EventAssembler::EventAssembler(AssemblerOptions options) : options_(options) {}
EventAssembler::~EventAssembler() = default;

std::unique_ptr<AuditEvent> EventAssembler::NewEvent() {
  if (free_.empty()) return std::make_unique<AuditEvent>();
  std::unique_ptr<AuditEvent> event = std::move(free_.back());
  free_.pop_back();
  return event;
}

void EventAssembler::Recycle(EventList* events) {
  for (auto& event : *events) {
    if (event == nullptr || free_.size() >= kMaxFreeEvents) continue;
    event->Reset();
    free_.push_back(std::move(event));
  }
  events->clear();
}

void EventAssembler::Emit(std::unique_ptr<AuditEvent> event, CloseReason reason, EventList* done) {
  event->set_close_reason(reason);
  ++stats_.events;
  switch (reason) {
    case CloseReason::kEndOfEvent:
      ++stats_.closed_by_eoe;
      break;
    case CloseReason::kSingleRecord:
      ++stats_.closed_single;
      break;
    case CloseReason::kAged:
      ++stats_.closed_by_age;
      break;
    case CloseReason::kWindow:
      ++stats_.closed_by_window;
      break;
    case CloseReason::kCapacity:
      ++stats_.closed_by_capacity;
      break;
    case CloseReason::kSerialReuse:
      ++stats_.closed_by_serial_reuse;
      break;
    case CloseReason::kFlush:
      ++stats_.closed_by_flush;
      break;
  }
  done->push_back(std::move(event));
}

void EventAssembler::Close(OpenList::iterator it, CloseReason reason, EventList* done) {
  const AuditEvent& event = *it->event;
  index_.erase(Key{event.node(), event.serial()});
  Emit(std::move(it->event), reason, done);
  open_.erase(it);
}

const AuditRecord* EventAssembler::Feed(const AuditRecord& record, int64_t now_ms,
                                        EventList* done) {
  ++stats_.records;
  const bool single = IsSingleRecordType(record.type);
  // The kernel ends a syscall event with PROCTITLE then EOE. auditd drops
  // EOE from the log files it writes, so PROCTITLE is the end marker that
  // both logs and live streams have; a live EOE then finds nothing open.
  const bool end_marker = record.type == audit_type::kEoe || record.type == audit_type::kProctitle;

  const AuditRecord* stored = nullptr;
  auto found = index_.find(Key{record.node, record.serial});
  if (found != index_.end() && found->second->time_ms != record.time_ms()) {
    // Same serial, another time: the serial wrapped or the kernel restarted.
    Close(found->second, CloseReason::kSerialReuse, done);
    found = index_.end();
  }

  if (found == index_.end()) {
    if (record.type == audit_type::kEoe) {
      // Its event was already closed at PROCTITLE (or aged out).
      ++stats_.orphan_eoe;
    } else if (single || end_marker) {
      auto event = NewEvent();
      stored = &event->Add(record);
      Emit(std::move(event), single ? CloseReason::kSingleRecord : CloseReason::kEndOfEvent, done);
    } else {
      if (open_.size() >= options_.max_open_events)
        Close(open_.begin(), CloseReason::kCapacity, done);
      OpenEvent& open = open_.emplace_back();
      open.event = NewEvent();
      stored = &open.event->Add(record);
      open.time_ms = record.time_ms();
      open.last_seen_ms = now_ms;
      open.last_record_seq = stats_.records;
      const AuditEvent& event = *open.event;
      index_.emplace(Key{event.node(), event.serial()}, std::prev(open_.end()));
    }
  } else {
    OpenList::iterator it = found->second;
    stored = &it->event->Add(record);
    it->last_seen_ms = now_ms;
    it->last_record_seq = stats_.records;
    if (end_marker || single) {
      Close(it, single ? CloseReason::kSingleRecord : CloseReason::kEndOfEvent, done);
    } else if (it->event->records().size() >= options_.max_records_per_event) {
      Close(it, CloseReason::kWindow, done);
    }
  }

  // The window check is a sweep over the open events; doing it every 256
  // records keeps it off the per-record path.
  if ((stats_.records & 255) == 0) Age(now_ms, done);
  return stored;
}

void EventAssembler::Age(int64_t now_ms, EventList* done) {
  for (auto it = open_.begin(); it != open_.end();) {
    auto next = std::next(it);
    if (now_ms - it->last_seen_ms >= options_.max_event_age_ms) {
      Close(it, CloseReason::kAged, done);
    } else if (stats_.records - it->last_record_seq >= options_.max_records_behind) {
      Close(it, CloseReason::kWindow, done);
    }
    it = next;
  }
}

void EventAssembler::Flush(EventList* done) {
  while (!open_.empty()) Close(open_.begin(), CloseReason::kFlush, done);
}

}  // namespace recorder
