// The enrich stage of a live run (docs/enrichment.md) and what feeds it
// besides audit events: the process table (saved in the state dir across
// restarts), the exe hash cache and its worker thread, user names, and
// the library-load monitor (MonitorImageLoad, a fanotify thread). The
// filter stage (docs/filters.md) follows enrichment here, because a
// process exclusion reaches descendants through the process table:
//
//   enricher -> FilteringSink(lineage = the process table)
//            -> SignalSink(lineage = the process table) -> next
//
// Signals are matched here, on the event loop, because their parent
// fields ask the process table; the matches travel with their events
// (TypedEvent::signals) to the store.
//
// Threads: the hash worker and the image monitor run their own; each
// hands results to the event loop through a bounded queue whose drops are
// counted (hashes.queue_full, image_loads.dropped). Everything here is
// called from the event loop's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "daemon/recording_sink.h"
#include "enrich/enriching_sink.h"
#include "enrich/hash_cache.h"
#include "enrich/hash_worker.h"
#include "enrich/image_load_monitor.h"
#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "enrich/user_names.h"
#include "filter/filtering_sink.h"
#include "normalize/event_sink.h"
#include "signals/signal_sink.h"
#include "store/event_store.h"

namespace recorder::daemon {

class LiveEnrichment {
 public:
  // Loads the saved process table and hash cache from `state_dir` (a bad
  // file is reported and replaced), seeds the table from /proc, starts the
  // hash worker; enriched events that `filters` keep go to `next`
  // (borrowed). `filters` may be null (everything is kept). `now_wall`:
  // the time the /proc snapshot is taken at.
  // `signals` may be null (nothing matches); `signals_out`, when not
  // null, gets each match as a JSON line (borrowed).
  LiveEnrichment(const std::string& state_dir, int64_t process_expiration_seconds, EventSink* next,
                 int64_t now_wall, std::shared_ptr<const filter::CompiledFilters> filters = nullptr,
                 std::shared_ptr<const signals::SignalMatcher> signals = nullptr,
                 std::FILE* signals_out = nullptr);
  // Stops the threads; call Finish first to keep what they hold.
  ~LiveEnrichment();
  LiveEnrichment(const LiveEnrichment&) = delete;
  LiveEnrichment& operator=(const LiveEnrichment&) = delete;

  // Where the pipeline's events enter the stage.
  EventSink* sink() { return enricher_.get(); }
  // Passes on the events that waited for their file paths and whose time
  // is up, when no new event came to push them.
  Status TickPaths(int64_t now_wall) { return enricher_->Tick(now_wall); }

  // Rows the previous run left "pending" (it stopped mid-hash) get their
  // hashes now: from the cache if the file is unchanged, else hashed again.
  void ResumePendingHashes(store::EventStore* store);
  // The hash back-fill, a periodic task: finished hashes go into the rows
  // written "pending". A row that cannot be updated is logged and keeps
  // "pending" (the next start resumes it).
  void StoreHashes(store::EventStore* store) { StoreHashCompletions(store, TakeHashCompletions()); }
  // The same in two steps, for a store written on another thread: take
  // the finished hashes here, store them there (in order after the rows).
  std::vector<enrich::HashCompletion> TakeHashCompletions() {
    return hash_worker_->TakeCompletions();
  }
  static void StoreHashCompletions(store::EventStore* store,
                                   const std::vector<enrich::HashCompletion>& done);
  // Saves the process table and the hash cache; a failure is logged (the
  // next start then knows less, nothing is lost from the database).
  void SaveState();

  // Starts the library-load monitor when `enabled` and not running (a
  // failed start is retried here); stops it otherwise, handing what it
  // still holds to `out`.
  Status ConfigureImageMonitor(bool enabled, RecordingSink* out, int64_t now_wall);
  // Moves the monitor's library loads into the event path through `out`:
  // those older than the hold time, or all of them when `all`.
  Status FeedImageLoads(RecordingSink* out, int64_t now_wall, bool all);

  // At shutdown, after the last audit events: stops the image monitor
  // (its loads go to `out`), waits briefly for the hashes of the last
  // execs and stores them, saves the state.
  Status Finish(RecordingSink* out, store::EventStore* store, int64_t now_wall) {
    Status fed = FinishEvents(out, now_wall);
    FinishHashes(store);
    return fed;
  }
  // Finish in two steps, for a store written on another thread: the last
  // events (library loads) into `out`, then — once they are written — the
  // last hashes and the state.
  Status FinishEvents(RecordingSink* out, int64_t now_wall);
  void FinishHashes(store::EventStore* store);

  // A reload: the filters apply from the next batch on (no event is lost
  // or judged twice). Null: everything is kept.
  void ReplaceFilters(std::shared_ptr<const filter::CompiledFilters> filters) {
    filtering_->Replace(std::move(filters));
  }
  // A reload of the signal rules, likewise (null: none).
  void ReplaceSignals(std::shared_ptr<const signals::SignalMatcher> matcher) {
    signals_->Replace(std::move(matcher));
  }
  signals::SignalStats signal_stats() const { return signals_->stats(); }
  // What the filters left out, by event type.
  filter::FilterStats filter_stats() const { return filtering_->stats(); }

  // Counts of every monitor this run had (a reload may stop and start it).
  enrich::ImageLoadStats image_stats() const;
  bool image_monitor_running() const { return images_ != nullptr; }
  size_t held_image_loads() const { return held_images_.size(); }
  const std::string& image_error() const { return image_error_; }
  enrich::HashWorkerStats hash_stats() const { return hash_worker_->stats(); }
  enrich::PortLookupStats port_stats() const { return enricher_->port_stats(); }
  size_t ports_in_flight() const { return enricher_->ports_in_flight(); }
  size_t hash_cache_size() const { return hash_cache_->size(); }

 private:
  void StartImageMonitor();
  Status StopImageMonitor(RecordingSink* out, int64_t now_wall);
  std::string ProcessStatePath() const { return state_dir_ + "/process_state.jsonl"; }
  std::string ImageStatePath() const { return state_dir_ + "/image_state.txt"; }

  std::string state_dir_;
  std::unique_ptr<enrich::ProcessTable> processes_;
  std::unique_ptr<enrich::HashCache> hash_cache_;
  std::unique_ptr<enrich::HashWorker> hash_worker_;
  std::unique_ptr<enrich::UserNames> users_;
  std::unique_ptr<enrich::TableLineage> lineage_;     // over processes_
  std::unique_ptr<signals::SignalSink> signals_;      // filtering_ -> it -> next
  std::unique_ptr<filter::FilteringSink> filtering_;  // enricher_ -> it -> signals_
  std::unique_ptr<enrich::EnrichingSink> enricher_;
  std::unique_ptr<enrich::ImageLoadMonitor> images_;
  std::deque<TypedEvent> held_images_;         // library loads waiting out the hold time
  enrich::ImageLoadStats image_stats_before_;  // of monitors stopped by a reload
  std::string image_error_;
};

}  // namespace recorder::daemon
