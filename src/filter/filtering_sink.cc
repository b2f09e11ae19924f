#include "filter/filtering_sink.h"

#include <utility>

namespace recorder::filter {

uint64_t FilterStats::total_dropped() const {
  uint64_t total = 0;
  for (uint64_t d : dropped) total += d;
  return total;
}

FilteringSink::FilteringSink(EventSink* next, std::shared_ptr<const CompiledFilters> filters,
                             const ProcessLineage* lineage)
    : next_(next), lineage_(lineage), filters_(std::move(filters)) {}

void FilteringSink::Replace(std::shared_ptr<const CompiledFilters> filters) {
  std::lock_guard<std::mutex> lock(pending_mutex_);
  pending_ = std::move(filters);
  has_pending_.store(true, std::memory_order_release);
}

Status FilteringSink::Consume(EventBatch* events) {
  if (has_pending_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    filters_ = std::move(pending_);
    pending_.reset();
    has_pending_.store(false, std::memory_order_relaxed);
    reloads_.fetch_add(1, std::memory_order_relaxed);
  }
  if (filters_ != nullptr && !filters_->empty()) {
    std::array<uint64_t, kEventTypeCount> seen{};
    std::array<uint64_t, kEventTypeCount> dropped{};
    std::array<uint64_t, kFilterEventKinds> dropped_by_kind{};
    uint64_t by_process = 0;
    uint64_t watchlist_only = 0;
    size_t kept = 0;
    for (size_t i = 0; i < events->size(); ++i) {
      TypedEvent& event = (*events)[i];
      const auto type = static_cast<size_t>(EventTypeOf(event));
      ++seen[type];
      const DropReason verdict = filters_->Decide(event, lineage_, &scratch_);
      if (verdict == DropReason::kKept) {
        // Swap, not move: the dropped event's slot keeps its strings'
        // capacity for the batch's reuse.
        if (kept != i) std::swap((*events)[kept], event);
        ++kept;
        continue;
      }
      ++dropped[type];
      ++dropped_by_kind[event.body.index()];
      by_process += verdict == DropReason::kProcess;
      watchlist_only += verdict == DropReason::kWatchlistOnly;
    }
    events->Truncate(kept);
    for (size_t t = 0; t < kEventTypeCount; ++t) {
      if (seen[t]) seen_[t].fetch_add(seen[t], std::memory_order_relaxed);
      if (dropped[t]) dropped_[t].fetch_add(dropped[t], std::memory_order_relaxed);
    }
    for (size_t k = 0; k < kFilterEventKinds; ++k)
      if (dropped_by_kind[k])
        dropped_by_kind_[k].fetch_add(dropped_by_kind[k], std::memory_order_relaxed);
    if (by_process) dropped_by_process_.fetch_add(by_process, std::memory_order_relaxed);
    if (watchlist_only)
      dropped_watchlist_only_.fetch_add(watchlist_only, std::memory_order_relaxed);
  }
  return next_->Consume(events);
}

Status FilteringSink::Flush() { return next_->Flush(); }

FilterStats FilteringSink::stats() const {
  FilterStats s;
  for (size_t t = 0; t < kEventTypeCount; ++t) {
    s.seen[t] = seen_[t].load(std::memory_order_relaxed);
    s.dropped[t] = dropped_[t].load(std::memory_order_relaxed);
  }
  for (size_t k = 0; k < kFilterEventKinds; ++k)
    s.dropped_by_kind[k] = dropped_by_kind_[k].load(std::memory_order_relaxed);
  s.dropped_by_process = dropped_by_process_.load(std::memory_order_relaxed);
  s.dropped_watchlist_only = dropped_watchlist_only_.load(std::memory_order_relaxed);
  s.reloads = reloads_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace recorder::filter
