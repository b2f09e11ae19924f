// The live recorder's object (internal to daemon/; RunDaemon in
// recorder_daemon.h is the entry point). recorder_daemon.cc has its
// start, event loop, reload and shutdown; daemon_tasks.cc its periodic
// tasks and what it reports (status, live line, the `runs` row).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/config_watch.h"
#include "daemon/control_channel.h"
#include "daemon/disk_space.h"
#include "daemon/json_lines_sink.h"
#include "daemon/limit_tasks.h"
#include "daemon/live_database.h"
#include "daemon/live_dns.h"
#include "daemon/live_enrichment.h"
#include "daemon/live_source.h"
#include "daemon/periodic_tasks.h"
#include "daemon/read_pacer.h"
#include "daemon/recorder_daemon.h"
#include "daemon/recording_sink.h"
#include "daemon/rule_keeper.h"
#include "daemon/run_report.h"
#include "daemon/signal_channel.h"
#include "daemon/status_report.h"
#include "filter/filter_loader.h"
#include "pipeline/pipeline.h"
#include "pipeline/signal_setup.h"
#include "pipeline/threaded_sink.h"
#include "store/event_store.h"
#include "util/clock.h"
#include "util/status.h"

namespace recorder::daemon {

// Events without EOE (single-record user messages aside) close by age;
// the pipeline needs Age() at least every 500 ms, we tick twice as often.
inline constexpr int64_t kTickMs = 250;
// A paced netlink source is read this long after a small read (see
// read_pacer.h): records reach the pipeline at most this much later,
// well within the store's batch delay.
inline constexpr int64_t kReadPaceMs = 100;

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& options) : options_(options), config_(options.config) {}
  // Shuts down if RunDaemon did not (an exception); a failure is logged.
  ~Daemon();

  Status Start();
  Status Loop();
  // An exception escaped Start or Loop: the run ends with it.
  void RecordInternalError(const std::string& what) { EndRun({RunEndKind::kInternalError, what}); }
  // Idempotent; the destructor calls it too.
  Status Shutdown();

 private:
  Status OpenSinks();
  // The database (daemon_database.cc): opened with the damage check; a
  // database that cannot be created or opened is tried again every
  // DatabaseErrorWaitMinutes while signals and control requests are
  // served. Ok with outcome_ ended when a stop came while waiting.
  Status OpenDatabase();
  // Goes on in a fresh database file (LiveDatabase::Switch) and re-points
  // what borrowed the old store. A fresh file that cannot be opened ends
  // the run.
  Result<DatabaseEvent> SwitchDatabase(LiveDatabase::SwitchKind kind, const std::string& reason,
                                       int archive_limit, int64_t now_wall);
  // The periodic check that the path still names our file (deleted or
  // replaced under the recorder: a fresh one is created).
  void CheckDatabaseFile(int64_t now_wall);
  // The control request "recreate-db" / "recreate-db discard".
  std::string RecreateDatabase(bool discard);
  Status OpenSource();
  void AddTasks(int64_t now_mono);
  Status ReadSource(int64_t now_wall);
  void EndRun(RunEnd end) { outcome_.Record(std::move(end)); }
  // Ends the run with `kind` and the message of `status` (unless ok);
  // returns `status` for the caller to pass on.
  Status EndOnError(RunEndKind kind, Status status);
  // A limit switched recording off: the marker stays until `start --force`.
  void Disable(const std::string& reason);
  // SIGHUP, or a configuration file changed on disk (`why` says which, for
  // the log). A bad file is logged and shown in status, and what is in
  // force stays. The error is a failure to store the library loads of a
  // monitor the new configuration turns off.
  Status Reload(int64_t now_mono, int64_t now_wall, std::string_view why);
  // The filters of the next configuration on a reload: the new ones when
  // they load, else (logged, and shown in status) the ones in force.
  std::shared_ptr<const filter::CompiledFilters> ReloadFilters(const config::RecorderConfig& next,
                                                               std::string_view why);
  // The stamps of the files a reload reads (config/config_watch.h).
  std::vector<config::FileStamp> ConfigStamps() const;
  void PrintLiveLine(int64_t now_wall);
  void WriteRunStats(int64_t now_wall);
  LiveRunCounts RunCounts() const;
  StatusSnapshot Snapshot(int64_t now_wall) const;
  std::string HandleControl(std::string_view request);
  void NoteBusy(int64_t start_us, int64_t read_done_us, int64_t tasks_start_us, int64_t done_us);
  // Runs `task` (a use of store_) on the writer thread, in order after the
  // events written so far; directly once the writer has stopped.
  Status OnWriter(std::function<Status()> task);
  // The cleanup's asks from the writer thread (archive, disable), done on
  // this one; and the next cleanup Run posted to the writer.
  void RunCleanup(const TaskClock& now);
  // Ends the writer thread after what it holds; store_ is the loop's again.
  Status StopWriter();
  // On the writer thread: the store's checkpoint counters for status.
  void CopyStoreView();
  void LogCapDrops();
  // Free space at the database's file system against the floor and the
  // manual's 3 x maxSizeMB (daemon/disk_space.h): stops or resumes
  // writing, logs the change. `at_start`: the start's warning.
  void CheckDiskSpace(bool at_start);
  // Every tick, from the file sizes alone (the store may be the writer's):
  // the database plus its -wal over maxSizeMB starts a cleanup run now;
  // near the hard limit writing stops (StorageCap) until it is back.
  void CheckStorageSize(int64_t now_mono);
  StorageCap StorageCapFor() const;
  CpuGuardOptions CpuOptions() const;

  DaemonOptions options_;
  config::RecorderConfig config_;
  const int32_t own_pid_ = static_cast<int32_t>(getpid());
  int64_t started_wall_ = 0;

  std::unique_ptr<SignalChannel> signals_;
  std::unique_ptr<ControlServer> control_;
  bool wrote_pid_file_ = false;

  // The event path: source -> pipeline -> recording sink (self-exclusion,
  // counts) -> enrichment -> filters -> [writer thread: PendingEventCap] -> tee ->
  // cleanup pacer -> store and/or JSON lines. Once the writer runs, store_
  // is used only through OnWriter (SwitchDatabase waits for the writer to
  // be idle first), and the database cleanup runs there too.
  std::unique_ptr<LiveDatabase> db_;
  store::EventStore* store_ = nullptr;  // db_->store(), kept in step by SwitchDatabase
  // In front of the store on the writer thread: drops events while the
  // file system is below the free-space floor, or full.
  std::unique_ptr<DiskGateSink> disk_gate_;
  DiskSpaceGuard disk_guard_{0};
  std::optional<DiskSpace> disk_space_;  // the last sample
  std::optional<DiskSpaceGuard::Verdict> disk_verdict_;
  StorageCap storage_cap_{0, 0};
  bool disk_warned_ = false;  // below 3 x maxSizeMB, logged once until back above
  uint64_t disk_drops_logged_ = 0;
  std::unique_ptr<JsonLinesSink> json_sink_;
  std::unique_ptr<TeeSink> tee_;
  // With a database: the cleanup, on the writer thread (limit_tasks.h).
  std::unique_ptr<CleanupTask> cleanup_;
  std::unique_ptr<CleanupPacer> pacer_;
  std::unique_ptr<ThreadedSink> writer_;  // declared after what it writes to
  bool writer_stopped_ = false;
  std::atomic<bool> commit_queued_{false};
  std::atomic<bool> cleanup_queued_{false};
  // What the cleanup asked for on the writer thread, for the loop: a
  // switch waits for the writer, a disable ends the run. Reasons; empty:
  // nothing asked.
  std::mutex cleanup_asks_mutex_;
  std::string archive_asked_;  // GUARDED_BY(cleanup_asks_mutex_)
  std::string disable_asked_;  // GUARDED_BY(cleanup_asks_mutex_)
  uint64_t cap_drops_logged_ = 0;
  mutable std::mutex store_view_mutex_;
  std::optional<store::StoreCheckpointStats> store_view_;  // GUARDED_BY(store_view_mutex_)
  store::StoreCounters signal_rows_view_;                  // GUARDED_BY(store_view_mutex_)
  std::unique_ptr<LiveEnrichment> enrichment_;
  // MonitorDNS (daemon/live_dns.h): its capture thread and BPF programs.
  std::unique_ptr<LiveDns> dns_;
  std::unique_ptr<RecordingSink> recording_sink_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<LiveSource> source_;
  std::unique_ptr<ReadPacer> read_pacer_;  // netlink sources only
  std::unique_ptr<RuleKeeper> rules_;
  // The filters in force (docs/filters.md): read at the start, replaced by
  // a reload whose filter files are good.
  filter::LoadedFilters filters_;
  // The signal rules in force (docs/signals.md), read at the start and on
  // a reload; a broken rule is reported and the others are used.
  std::shared_ptr<const signals::SignalMatcher> signal_matcher_;
  std::vector<store::SignalRuleRow> signal_rows_;
  uint64_t signals_not_loaded_ = 0;
  std::FILE* signals_out_ = nullptr;  // --signals-out; owned unless stdout
  void LoadLiveSignals(const config::RecorderConfig& config, std::string_view why);
  // signal_rows_ into signal_rules (RecordSignalDefinitions); only while
  // the store is this thread's (before the writer starts, or idle).
  void StoreSignalRules(int64_t now_wall);
  uint64_t filter_reload_failures_ = 0;
  std::string filter_reload_error_;  // of the last reload; empty: it went well
  // Reloads on a change of the files (config/config_watch.h), sampled by
  // the "config files" task; SIGHUP rebases it.
  config::ConfigChangeDetector config_watch_;
  uint64_t config_reloads_ = 0;          // attempted, by SIGHUP or a file change
  uint64_t config_reload_failures_ = 0;  // recorder*.json did not load
  std::string config_reload_error_;      // of the last reload; empty: it went well

  // Everything on a timer; the tasks below are owned by it.
  TaskTable tasks_{MonotonicUs};
  CpuGuardTask* cpu_ = nullptr;

  RunOutcome outcome_;
  bool shut_down_ = false;
  // How long the loop was busy between two polls: a stall here is time the
  // kernel's backlog fills while nobody reads.
  StatusSnapshot::Loop busy_;
  std::shared_ptr<LiveLine> live_line_;  // null: no live line
};

}  // namespace recorder::daemon
