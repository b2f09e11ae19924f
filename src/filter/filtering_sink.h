// The filter stage as an EventSink decorator: drops the events the
// filters exclude, counts drops per event type, and forwards the rest.
//
// Where it goes: between the enrich stage and the store,
//
//   pipeline -> EnrichingSink(next = FilteringSink(next = store, filters, lineage))
//
// because process exclusions reach descendants through the process table
// (a ProcessLineage over it), which must have applied the batch first.
// Without a lineage it can sit anywhere; exclusions then reach only the
// excluded process's own events.
//
// Consume and Flush run on one thread (the pipeline's, or the writer's);
// Replace and stats() may be called from any thread: a replacement takes
// effect at the next batch, so no event is lost or judged twice across a
// reload.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <variant>

#include "filter/compiled_filters.h"
#include "filter/process_lineage.h"
#include "normalize/event_sink.h"

namespace recorder::filter {

// The kinds of typed events (TypedEvent::body's alternatives, named by
// EventKindName): the runs table counts what the filters left out by kind.
inline constexpr size_t kFilterEventKinds = std::variant_size_v<EventBody>;

struct FilterStats {
  std::array<uint64_t, kEventTypeCount> seen{};
  std::array<uint64_t, kEventTypeCount> dropped{};
  // The same drops by EventKindName index (runs.filtered_out_<kind>).
  std::array<uint64_t, kFilterEventKinds> dropped_by_kind{};
  // Of dropped: by a process exclusion (of its process or an ancestor).
  uint64_t dropped_by_process = 0;
  uint64_t dropped_watchlist_only =
      0;  // of dropped: onlyWatchFileRoot=false, outside the watchlist
  uint64_t reloads = 0;
  uint64_t total_dropped() const;
};

class FilteringSink : public EventSink {
 public:
  // `next` and `lineage` are borrowed (lineage may be null); `filters` may
  // be null or empty (everything passes).
  FilteringSink(EventSink* next, std::shared_ptr<const CompiledFilters> filters,
                const ProcessLineage* lineage = nullptr);

  Status Consume(EventBatch* events) override;
  Status Flush() override;

  // Thread-safe; used from the next Consume on.
  void Replace(std::shared_ptr<const CompiledFilters> filters);
  // Thread-safe snapshot.
  FilterStats stats() const;

 private:
  EventSink* const next_;
  const ProcessLineage* const lineage_;
  std::shared_ptr<const CompiledFilters> filters_;  // the consuming thread's
  MatchScratch scratch_;

  mutable std::mutex pending_mutex_;
  std::shared_ptr<const CompiledFilters> pending_;  // GUARDED_BY(pending_mutex_)
  std::atomic<bool> has_pending_{false};

  std::array<std::atomic<uint64_t>, kEventTypeCount> seen_{};
  std::array<std::atomic<uint64_t>, kEventTypeCount> dropped_{};
  std::array<std::atomic<uint64_t>, kFilterEventKinds> dropped_by_kind_{};
  std::atomic<uint64_t> dropped_by_process_{0};
  std::atomic<uint64_t> dropped_watchlist_only_{0};
  std::atomic<uint64_t> reloads_{0};
};

}  // namespace recorder::filter
