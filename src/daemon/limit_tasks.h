// The limits (docs/configuration.md "Limits") as periodic tasks: the
// database cleanup with its size check, and the CPU kill switch. Either
// may switch recording off through the `disable` callback (the daemon
// writes the marker and ends the run).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.h"
#include "daemon/cpu_guard.h"
#include "daemon/periodic_tasks.h"
#include "normalize/event_sink.h"
#include "store/event_store.h"
#include "store/retention.h"

namespace recorder::daemon {

using DisableFn = std::function<void(const std::string& reason)>;
// Archives the database and starts a fresh one (LiveDatabase::Switch); the
// daemon then hands the fresh store to the task (SetStore).
using ArchiveFn = std::function<void(const std::string& reason)>;

// The retention policy the configuration asks for, in the small steps the
// event loop can afford.
store::RetentionPolicy RetentionPolicyFor(const config::RecorderConfig& config);

// The log line of a finished cleanup run, in the user's terms: events
// deleted (older than MonitorDays, or the oldest over maxSizeMB), process
// rows no kept event refers to any more (processes that ended or whose
// pid a later process took, placeholders for processes seen without their
// start among them), and the database's size before and after. Empty when
// the run deleted nothing and was no size cleanup (nothing worth a line).
// `rows` is per table, as RetentionResult::rows_deleted. With
// `checkpoint_blocked` (RetentionResult) the WAL left in `after` is named.
std::string CleanupSummary(const std::map<std::string, int64_t>& rows, int monitor_days,
                           bool size_cleanup, const store::StorageSize& before,
                           const store::StorageSize& after, bool checkpoint_blocked = false);

// The database file's growth step, SQLiteChunkSizeMB in bytes — at most a
// tenth of maxSizeMB (when that is set), so that one step of growth cannot
// by itself take the file far past the size cleanup keeps it to (the
// defaults, 100 MB of 1024 MB, are not capped). 0: SQLite's own growth.
int64_t ChunkSizeBytesFor(const config::RecorderConfig& config);

// The database cleanup (store/retention.h). A cleanup run starts
// `first_run_ms` after the task is made, then
// DatabaseCleanupIntervalMinutes after the previous run started — or at
// once when the size check (every `size_check_ms` between runs, or
// RunSoon) finds the file over maxSizeMB. A run goes in bounded Steps,
// each committing the store's open batch first. A failed step is logged
// and the run starts over next time; recording goes on. When
// MaxCleanTries runs in a row end still over maxSizeMB, it calls
// `archive` (the manual: the database is archived and a fresh one
// started); otherwise, over the hard limit with nothing left to clean, it
// calls `disable`.
//
// Threads: Run, ContinueRun, SetStore and the accessors below View belong
// to the thread that uses the store — in the daemon its writer thread,
// which gets Run posted every tick and calls ContinueRun after every batch
// it writes (CleanupPacer), so a flood that keeps the writer busy cannot
// starve a run. `disable` and `archive` are called on that thread.
// RunSoon, Reconfigure and View may be called from any thread.
class CleanupTask : public PeriodicTask {
 public:
  static constexpr int64_t kFirstRunMs = 10'000;

  // What another thread may know of the task (status).
  struct View {
    bool running = false;
    std::optional<int64_t> last_run_wall_ms;  // when the last run finished
    int64_t last_run_bytes_after = 0;         // the file's size then
  };

  // `store` is borrowed.
  CleanupTask(store::EventStore* store, const config::RecorderConfig& config, int64_t tick_ms,
              int64_t size_check_ms, int64_t now_mono, DisableFn disable,
              ArchiveFn archive = nullptr);

  Status Run(const TaskClock& now) override;
  int64_t period_ms() const override { return tick_ms_; }

  // One Step of the run in progress, if one is; false when none is.
  bool ContinueRun(int64_t now_wall);

  // The file grew over maxSizeMB (seen from its size on disk): a run
  // starts at the next Run, unless one is running.
  void RunSoon(int64_t /*now_mono*/) { run_soon_ = true; }

  // A reload: the new policy and interval, taken at the next Run; a run in
  // progress then starts over at once under them (every step committed on
  // its own).
  void Reconfigure(const config::RecorderConfig& config, int64_t now_mono);

  // The store after a switch to a fresh file: a run in progress ends, the
  // count of failed runs restarts, the schedule stays. `store` may be null
  // (no file): nothing runs until a store is set.
  void SetStore(store::EventStore* store);

  View view() const;

  bool running() const { return retention_->in_run(); }
  // Finished runs in a row that left the file over maxSizeMB.
  int failed_tries() const { return failed_tries_; }
  // The last finished run (its per-table counts cleared) and when it
  // finished (wall ms).
  const std::optional<store::RetentionResult>& last_run() const { return last_run_; }
  int64_t last_run_wall_ms() const { return last_run_wall_ms_; }
  // When the next scheduled run starts (monotonic), for tests.
  int64_t next_run_ms() const { return next_run_ms_; }

 private:
  struct PendingConfig {
    config::RecorderConfig config;
    int64_t now_mono = 0;
  };
  void Step(int64_t now_wall);
  void ApplyConfig(const config::RecorderConfig& config, int64_t now_mono);
  void UpdateView();

  store::EventStore* store_;
  std::unique_ptr<store::Retention> retention_;
  int64_t interval_ms_;
  int64_t tick_ms_;
  int64_t size_check_ms_;
  DisableFn disable_;
  ArchiveFn archive_;
  int max_clean_tries_;
  int failed_tries_ = 0;
  int64_t next_run_ms_;                      // monotonic: the next scheduled run
  int64_t next_size_check_ms_;               // monotonic
  std::map<std::string, int64_t> run_rows_;  // deleted by the run in progress, per table
  store::StorageSize run_before_;            // at the start of the run in progress
  std::optional<store::RetentionResult> last_run_;
  int64_t last_run_wall_ms_ = 0;
  int64_t postponed_logged_ms_ = 0;  // wall: the last "cleanup postponed" line
  std::atomic<bool> run_soon_{false};
  mutable std::mutex shared_mutex_;
  std::optional<PendingConfig> pending_config_;  // GUARDED_BY(shared_mutex_)
  View view_;                                    // GUARDED_BY(shared_mutex_)
};

// In front of the store on the writer thread: after every batch it passes
// on, one step of the cleanup run in progress. Under a flood the writer is
// never idle; riding along with the batches, a run keeps pace with the
// file's growth instead of waiting for a pause that does not come.
class CleanupPacer : public EventSink {
 public:
  // `next` and `cleanup` are borrowed; `wall_ms` reads the clock.
  CleanupPacer(EventSink* next, CleanupTask* cleanup, std::function<int64_t()> wall_ms)
      : next_(next), cleanup_(cleanup), wall_ms_(std::move(wall_ms)) {}

  Status Consume(EventBatch* events) override {
    Status status = next_->Consume(events);
    if (status.ok() && cleanup_ != nullptr) cleanup_->ContinueRun(wall_ms_());
    return status;
  }
  Status Flush() override { return next_->Flush(); }

 private:
  EventSink* next_;
  CleanupTask* cleanup_;
  std::function<int64_t()> wall_ms_;
};

// The CPU kill switch (daemon/cpu_guard.h) sampled every `period_ms`.
// A sample that cannot be read is logged and skipped.
class CpuGuardTask : public PeriodicTask {
 public:
  using Sampler = std::function<Result<CpuSample>()>;

  CpuGuardTask(CpuGuardOptions options, int64_t period_ms, DisableFn disable,
               Sampler sampler = ReadCpuSample);

  Status Run(const TaskClock& now) override;
  int64_t period_ms() const override { return period_ms_; }

  // A reload: a changed kill switch starts counting afresh.
  void Reconfigure(const CpuGuardOptions& options);

  const CpuGuard& guard() const { return *guard_; }
  // The last closed window's report (usage 0 before the first).
  const CpuGuardReport& last_window() const { return last_window_; }

 private:
  std::unique_ptr<CpuGuard> guard_;
  int64_t period_ms_;
  DisableFn disable_;
  Sampler sampler_;
  CpuGuardReport last_window_;
};

}  // namespace recorder::daemon
