#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "daemon/daemon.h"
#include "daemon/daemon_status.h"
#include "util/file_util.h"

// The Daemon's periodic tasks and what it reports; see daemon.h.
namespace recorder::daemon {
namespace {

// How often the process table and the hash cache are saved besides at
// shutdown: a crash then loses at most this much of what they learned.
constexpr int64_t kSaveStateMs = int64_t{5} * 60 * 1000;
constexpr int64_t kLiveLineMs = 1000;
constexpr int64_t kRunStatsMs = 10'000;
// Free disk space is sampled this often (one statvfs): a flood fills a
// few MB per second, and the floor must be seen before the disk is full.
constexpr int64_t kDiskCheckMs = 1000;
// The configuration files are stamped this often (config/config_watch.h):
// an edit takes effect within two samples.
constexpr int64_t kConfigWatchMs = 1000;
// A stretch of the loop longer than this is counted (status loop.busy_over_100ms).
constexpr int64_t kLongBusyUs = 100'000;
// The tasks the status's loop.longest_busy_where names by themselves.
constexpr char kAgeTask[] = "age events";
constexpr char kHashTask[] = "store hashes";
constexpr char kCommitTask[] = "commit";

}  // namespace

CpuGuardOptions Daemon::CpuOptions() const {
  CpuGuardOptions guard = CpuGuardOptions::FromConfig(config_);
  if (options_.cpu_window_ms_override > 0) guard.window_ms = options_.cpu_window_ms_override;
  return guard;
}

// The table, in the order the tasks run within one pass of the loop.
void Daemon::AddTasks(int64_t now) {
  tasks_.Add(kAgeTask,
             MakeTask(kTickMs,
                      [this](const TaskClock& t) {
                        recording_sink_->set_now(t.wall_ms);
                        Status done = pipeline_->Age(t.wall_ms);
                        if (done.ok()) done = enrichment_->TickPaths(t.wall_ms);
                        if (done.ok())
                          done =
                              enrichment_->FeedImageLoads(recording_sink_.get(), t.wall_ms, false);
                        if (done.ok() && dns_)
                          done = dns_->Feed(recording_sink_.get(), t.wall_ms, false);
                        return EndOnError(RunEndKind::kWriteFailed, std::move(done));
                      }),
             now + kTickMs);
  tasks_.Add(kHashTask,
             MakeTask(kTickMs,
                      [this](const TaskClock&) {
                        std::vector<enrich::HashCompletion> done =
                            enrichment_->TakeHashCompletions();
                        if (done.empty() || !store_) return Status::Ok();
                        return EndOnError(RunEndKind::kWriteFailed,
                                          OnWriter([this, done = std::move(done)] {
                                            LiveEnrichment::StoreHashCompletions(store_, done);
                                            return Status::Ok();
                                          }));
                      }),
             now + kTickMs);
  if (store_) {
    tasks_.Add(kCommitTask,
               MakeTask(kTickMs,
                        [this](const TaskClock&) {
                          // One at a time: a stalled writer does not pile them up.
                          if (commit_queued_.exchange(true)) return Status::Ok();
                          return EndOnError(RunEndKind::kWriteFailed, OnWriter([this] {
                                              commit_queued_ = false;
                                              // A full disk stops writing, not the run.
                                              Status ticked =
                                                  disk_gate_->Absorb(store_->Tick(MonotonicMs()));
                                              CopyStoreView();
                                              return ticked;
                                            }));
                        }),
               now + kTickMs);
  }
  tasks_.Add("audit status",
             MakeTask(options_.status_check_interval_ms,
                      [this](const TaskClock&) {
                        source_->CheckStatus();
                        LogCapDrops();
                        return Status::Ok();
                      }),
             now + options_.status_check_interval_ms);
  tasks_.Add("rule drift",
             MakeTask(options_.rule_check_interval_ms,
                      [this](const TaskClock& t) {
                        rules_->CheckAndRepair(t.wall_ms);
                        return Status::Ok();
                      }),
             now + options_.rule_check_interval_ms);
  if (!options_.config_dir.empty()) {
    tasks_.Add("config files",
               MakeTask(kConfigWatchMs,
                        [this](const TaskClock& t) {
                          if (!config_watch_.Observe(ConfigStamps())) return Status::Ok();
                          return EndOnError(RunEndKind::kWriteFailed,
                                            Reload(t.mono_ms, t.wall_ms, "configuration changed"));
                        }),
               now + kConfigWatchMs);
  }
  tasks_.Add("save state",
             MakeTask(kSaveStateMs,
                      [this](const TaskClock&) {
                        enrichment_->SaveState();
                        return Status::Ok();
                      }),
             now + kSaveStateMs);
  const DisableFn disable = [this](const std::string& reason) { Disable(reason); };
  if (store_) {
    tasks_.Add("run stats",
               MakeTask(kRunStatsMs,
                        [this](const TaskClock& t) {
                          WriteRunStats(t.wall_ms);
                          return Status::Ok();
                        }),
               now + kRunStatsMs);
    // Due every tick: the cleanup keeps its own schedule of runs and size
    // checks.
    tasks_.Add("database cleanup",
               MakeTask(kTickMs,
                        [this](const TaskClock& t) {
                          RunCleanup(t);
                          return Status::Ok();
                        }),
               now);
    storage_cap_ = StorageCapFor();
    if (disk_gate_) disk_gate_->set_pause_bytes(storage_cap_.pause_bytes());
    tasks_.Add("storage size",
               MakeTask(kTickMs,
                        [this](const TaskClock& t) {
                          CheckStorageSize(t.mono_ms);
                          return Status::Ok();
                        }),
               now + kTickMs);
    tasks_.Add("disk space",
               MakeTask(kDiskCheckMs,
                        [this](const TaskClock&) {
                          CheckDiskSpace(/*at_start=*/false);
                          return Status::Ok();
                        }),
               now + kDiskCheckMs);
    tasks_.Add("database file",
               MakeTask(options_.limits_check_interval_ms,
                        [this](const TaskClock& t) {
                          CheckDatabaseFile(t.wall_ms);
                          return Status::Ok();
                        }),
               now + options_.limits_check_interval_ms);
  }
  auto cpu =
      std::make_unique<CpuGuardTask>(CpuOptions(), options_.limits_check_interval_ms, disable);
  cpu_ = cpu.get();
  tasks_.Add("cpu guard", std::move(cpu), now);
  if (options_.live_line) {
    live_line_ =
        options_.live_line_display ? options_.live_line_display : std::make_shared<LiveLine>();
    tasks_.Add("live line",
               MakeTask(kLiveLineMs,
                        [this](const TaskClock& t) {
                          PrintLiveLine(t.wall_ms);
                          return Status::Ok();
                        }),
               now + kLiveLineMs);
  }
}

void Daemon::Disable(const std::string& reason) {
  // Another ending came first (a signal, a failure): nothing to switch off.
  if (outcome_.ended()) return;
  // The manual: after an automatic disable the recorder stays stopped until
  // someone starts it by hand (`recorder start --force`).
  Status written = WriteDisabled(config_.state_dir, reason);
  if (!written.ok()) spdlog::error("writing the disabled marker failed: {}", written.message());
  spdlog::error("recording disabled: {}; it stays off until 'recorder start --force'", reason);
  EndRun({RunEndKind::kDisabled, reason});
}

StatusSnapshot Daemon::Snapshot(int64_t now_wall) const {
  StatusSnapshot s;
  s.pid = own_pid_;
  s.source = config::AuditSourceName(source_->kind());
  s.started_ms = started_wall_;
  s.now_ms = now_wall;
  const EventCounters& counters = recording_sink_->counters();
  for (size_t kind = 0; kind < kEventKinds; ++kind) {
    s.events[kind] = {counters.total(kind), counters.PerSecond(kind, now_wall, started_wall_)};
  }
  s.events_total = counters.total();
  s.audit_at_start = source_->status_at_start();
  s.audit_now = source_->last_status();
  s.drops = source_->drops();
  s.serial_gaps = source_->serial_gaps();
  s.netlink = source_->is_netlink();
  s.self_excluded = recording_sink_->self_dropped();
  s.malformed = pipeline_->stats().malformed;
  s.records = pipeline_->stats().lines;
  s.unicast = source_->unicast();
  s.audit_pid_lost = source_->pid_lost();
  s.audit_holder_pid = source_->holder_pid();
  s.db_path = options_.db_path;
  s.db_size_bytes = FileSize(options_.db_path);
  if (db_ && db_->last_event()) {
    s.db_event = StatusSnapshot::DbEvent{db_->last_event()->wall_ms, db_->last_event()->what,
                                         db_->last_event()->archive, db_->switches()};
  }
  s.rule_key = config_.rule_key;
  s.rules = rules_->state();
  s.filters.files = filters_.files;
  s.filters.stats = enrichment_->filter_stats();
  s.filters.reload_failures = filter_reload_failures_;
  s.filters.last_reload_error = filter_reload_error_;
  const signals::SignalStats signal_stats = enrichment_->signal_stats();
  s.signals.enabled = !config_.disable_signals;
  s.signals.rules = signal_stats.rules;
  s.signals.not_loaded = signals_not_loaded_;
  s.signals.matches = signal_stats.matches;
  s.signals.by_rule = signal_stats.by_rule;
  s.signals.limit = config_.record_signal_matches;
  s.config.dir = options_.config_dir;
  s.config.reloads = config_reloads_;
  s.config.reload_failures = config_reload_failures_;
  s.config.last_reload_error = config_reload_error_;
  s.images.enabled = config_.monitor_image_load;
  s.images.running = enrichment_->image_monitor_running();
  s.images.stats = enrichment_->image_stats();
  s.images.held = enrichment_->held_image_loads();
  s.images.error = enrichment_->image_error();
  if (dns_) s.dns = dns_->status(config_.monitor_dns);
  s.cpu.threshold = config_.cpu_threshold;
  s.cpu.kill_enabled = config_.cpu_kill_enabled;
  s.cpu.violations = cpu_->guard().violations();
  s.cpu.kill_after_violations = config_.cpu_kill_after_num_violations;
  s.cpu.last_window_usage = cpu_->last_window().usage;
  s.cpu.last_window_ms = cpu_->last_window().window_ms;
  s.storage.max_size_mb = config_.max_size_mb;
  s.storage.monitor_days = config_.monitor_days;
  if (cleanup_) {
    const CleanupTask::View cleanup = cleanup_->view();
    s.storage.cleanup_running = cleanup.running;
    s.storage.last_cleanup_ms = cleanup.last_run_wall_ms;
    s.storage.last_cleanup_bytes_after = cleanup.last_run_bytes_after;
  }
  if (disk_space_ && disk_verdict_) {
    s.disk = StatusSnapshot::Disk{disk_space_->free_bytes,
                                  disk_space_->total_bytes,
                                  disk_verdict_->floor_bytes,
                                  disk_verdict_->resume_bytes,
                                  disk_verdict_->recommended_bytes,
                                  disk_verdict_->below_recommended,
                                  disk_gate_->writing(),
                                  !storage_cap_.writing(),
                                  disk_gate_->dropped()};
  }
  s.loop = busy_;
  {
    std::lock_guard<std::mutex> lock(store_view_mutex_);
    s.checkpoints = store_view_;
    s.signals.stored = signal_rows_view_.signal_matches;
    s.signals.removed = signal_rows_view_.signal_matches_removed;
  }
  s.pending_event_cap = config_.pending_event_cap;
  if (writer_) {
    const ThreadedSinkStats writer = writer_->StatsNow();
    s.in_flight = writer.in_flight;
    s.cap_dropped = writer.dropped_by_kind;
  }
  const enrich::HashWorkerStats hashes = enrichment_->hash_stats();
  s.hashes = StatusSnapshot::Hashes{hashes.hashed, hashes.dropped, enrichment_->hash_cache_size()};
  s.ports = enrichment_->port_stats();
  s.ports_in_flight = enrichment_->ports_in_flight();
  return s;
}

std::string Daemon::HandleControl(std::string_view request) {
  if (request == "ping") return R"({"ok":true})";
  if (request == "status") return StatusJson(Snapshot(WallMs())).dump();
  if (request == "stop") {
    EndRun({RunEndKind::kStopRequest, ""});
    return R"({"ok":true,"stopping":true})";
  }
  if (request == "recreate-db") return RecreateDatabase(/*discard=*/false);
  if (request == "recreate-db discard") return RecreateDatabase(/*discard=*/true);
  return nlohmann::json{{"ok", false}, {"error", fmt::format("unknown request '{}'", request)}}
      .dump();
}

void Daemon::PrintLiveLine(int64_t now_wall) {
  const EventCounters& c = recording_sink_->counters();
  LiveLineCounts counts;
  counts.source = config::AuditSourceName(source_->kind());
  for (size_t kind = 0; kind < kEventKinds; ++kind)
    counts.per_second[kind] = c.LastSecond(kind, now_wall);
  counts.total = c.total();
  auto lost = [](const std::optional<AuditStatus>& s) {
    return s ? std::optional<uint64_t>(s->lost) : std::nullopt;
  };
  counts.kernel_lost =
      LostSinceStart(lost(source_->status_at_start()), lost(source_->last_status()));
  counts.drops = source_->drops();
  live_line_->Show(LiveLineText(counts));
}

LiveRunCounts Daemon::RunCounts() const {
  LiveRunCounts counts;
  if (pipeline_) {
    const PipelineStats& p = pipeline_->stats();
    counts.lines = p.lines;
    counts.bytes = p.bytes;
    counts.malformed = p.malformed;
    counts.truncated = p.truncated;
    counts.audit_events = pipeline_->normalizer_stats().events_in;
    counts.partial_events = pipeline_->normalizer_stats().partial;
    counts.ignored_events = pipeline_->normalizer_stats().ignored;
  }
  if (source_) {
    if (source_->status_at_start()) counts.kernel_lost_at_start = source_->status_at_start()->lost;
    if (source_->last_status()) counts.kernel_lost_now = source_->last_status()->lost;
    counts.netlink_overruns = source_->netlink_overruns();
    counts.plugin_too_long = source_->plugin_too_long();
    counts.serial_gaps = source_->serial_gaps();
  }
  if (enrichment_) {
    const enrich::ImageLoadStats images = enrichment_->image_stats();
    counts.image_dropped = images.dropped;
    counts.image_overflows = images.overflows;
    counts.filtered_out = enrichment_->filter_stats().dropped_by_kind;
  }
  if (writer_) counts.cap_dropped = writer_->StatsNow().dropped_by_kind;
  if (disk_gate_) counts.disk_dropped = disk_gate_->dropped();
  return counts;
}

void Daemon::WriteRunStats(int64_t now_wall) {
  if (!store_) return;
  store::RunStats stats = LiveRunStats(RunCounts(), outcome_);
  stats.note = db_->run_note();
  Status posted = OnWriter([this, stats = std::move(stats), now_wall] {
    Status status = store_->RecordRunStats(stats, now_wall);
    if (!status.ok()) spdlog::warn("writing run statistics failed: {}", status.message());
    return Status::Ok();
  });
  if (!posted.ok()) spdlog::warn("writing run statistics failed: {}", posted.message());
}

Status Daemon::OnWriter(std::function<Status()> task) {
  if (writer_ && !writer_stopped_) return writer_->Post(std::move(task));
  return task();
}

void Daemon::RunCleanup(const TaskClock& now) {
  std::string archive, disable;
  {
    std::lock_guard<std::mutex> lock(cleanup_asks_mutex_);
    archive.swap(archive_asked_);
    disable.swap(disable_asked_);
  }
  if (!disable.empty()) Disable(disable);
  // A failed switch is logged there, and ends the run when it leaves no
  // store (outcome_, checked below); otherwise the old file goes on.
  if (!archive.empty() && !outcome_.ended())
    (void)SwitchDatabase(LiveDatabase::SwitchKind::kArchive, archive,
                         config_.database_archive_limit, now.wall_ms);
  if (db_) db_->LogArchives();
  if (!cleanup_ || outcome_.ended()) return;
  // One at a time: behind a flood the posted run waits its turn, while
  // the pacer steps a run in progress after every batch.
  if (cleanup_queued_.exchange(true)) return;
  Status posted = OnWriter([this] {
    cleanup_queued_ = false;
    return cleanup_->Run({MonotonicMs(), WallMs()});
  });
  if (!posted.ok()) EndRun({RunEndKind::kWriteFailed, posted.message()});
}

Status Daemon::StopWriter() {
  if (!writer_ || writer_stopped_) return Status::Ok();
  Status stopped = writer_->Stop();
  writer_stopped_ = true;
  CopyStoreView();
  return stopped;
}

void Daemon::CopyStoreView() {
  if (!store_) return;
  std::lock_guard<std::mutex> lock(store_view_mutex_);
  store_view_ = store_->checkpoint_stats();
  signal_rows_view_ = store_->counters();
}

void Daemon::LogCapDrops() {
  if (!writer_) return;
  const ThreadedSinkStats writer = writer_->StatsNow();
  if (writer.dropped <= cap_drops_logged_) return;
  std::string kinds;
  for (size_t kind = 0; kind < writer.dropped_by_kind.size(); ++kind) {
    if (writer.dropped_by_kind[kind] == 0) continue;
    kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", EventKindName(kind),
                         writer.dropped_by_kind[kind]);
  }
  spdlog::warn(
      "PendingEventCap {} reached: {} events dropped while the database writer was behind; "
      "total {} ({})",
      config_.pending_event_cap, writer.dropped - cap_drops_logged_, writer.dropped, kinds);
  cap_drops_logged_ = writer.dropped;
}

void Daemon::CheckDiskSpace(bool at_start) {
  if (!disk_gate_ || options_.db_path.empty()) return;
  const std::string dir = std::filesystem::path(options_.db_path).parent_path().string();
  Result<DiskSpace> space = MeasureDiskSpace(dir.empty() ? "." : dir);
  if (!space.ok()) {
    spdlog::warn("measuring the free disk space failed: {}", space.status().message());
    return;
  }
  const bool full = disk_gate_->TakeFull();
  if (full) disk_guard_.NoteFull();
  const DiskSpaceGuard::Verdict verdict = disk_guard_.Feed(*space);
  disk_gate_->set_writing(verdict.writing && storage_cap_.writing());
  disk_space_ = *space;
  disk_verdict_ = verdict;
  auto mb = [](int64_t bytes) { return static_cast<double>(bytes) / store::kBytesPerMB; };
  if (verdict.changed || (full && !verdict.writing)) {
    if (verdict.writing) {
      spdlog::warn(
          "{:.1f} MB free on the database's file system again: writing resumes ({} events "
          "dropped so far)",
          mb(space->free_bytes), disk_gate_->dropped());
    } else {
      spdlog::error(
          "{}{:.1f} MB free on the database's file system, below the floor of {:.1f} MB: events "
          "are dropped (counted) until {:.1f} MB are free",
          full ? "the disk is full: " : "", mb(space->free_bytes), mb(verdict.floor_bytes),
          mb(verdict.resume_bytes));
    }
  }
  if (verdict.below_recommended && (at_start || !disk_warned_)) {
    spdlog::warn(
        "{:.1f} MB free on the database's file system; the manual asks for three times maxSizeMB "
        "({:.0f} MB)",
        mb(space->free_bytes), mb(verdict.recommended_bytes));
  }
  disk_warned_ = verdict.below_recommended;
  const uint64_t dropped = disk_gate_->dropped();
  if (dropped > disk_drops_logged_ && disk_gate_->writing()) {
    spdlog::warn(
        "{} events dropped while the disk was full or below the free-space floor, or the "
        "database near its hard limit",
        dropped - disk_drops_logged_);
    disk_drops_logged_ = dropped;
  }
}

StorageCap Daemon::StorageCapFor() const {
  const store::RetentionPolicy policy = RetentionPolicyFor(config_);
  int64_t hard = 0;
  for (int64_t limit : {policy.max_runtime_storage_bytes, policy.absolute_max_storage_bytes})
    if (limit > 0 && (hard == 0 || limit < hard)) hard = limit;
  return StorageCap(policy.max_size_bytes, hard);
}

void Daemon::CheckStorageSize(int64_t now_mono) {
  if (!disk_gate_ || !cleanup_ || !store_) return;
  const int64_t bytes = DatabaseBytes(db_->path(), db_->path() + "-wal");
  if (config_.max_size_mb > 0 && bytes > config_.max_size_mb * store::kBytesPerMB)
    cleanup_->RunSoon(now_mono);
  const bool was_writing = storage_cap_.writing();
  if (disk_gate_->TakeSizeStop()) storage_cap_.Stop();  // the writer saw it first
  const bool writing = storage_cap_.Feed(bytes);
  if (writing != was_writing) {
    auto mb = [](int64_t n) { return static_cast<double>(n) / store::kBytesPerMB; };
    if (writing) {
      spdlog::warn("the database is back at {:.1f} MB: writing resumes", mb(bytes));
    } else {
      spdlog::error(
          "the database grew to {:.1f} MB, faster than cleanup deletes: events are dropped "
          "(counted) until it is back at maxSizeMB ({} MB)",
          mb(bytes), config_.max_size_mb);
    }
  }
  disk_gate_->set_writing(writing && disk_guard_.writing());
}

void Daemon::NoteBusy(int64_t start_us, int64_t read_done_us, int64_t tasks_start_us,
                      int64_t done_us) {
  const int64_t busy_us = done_us - start_us;
  if (busy_us > kLongBusyUs) ++busy_.busy_over_100ms;
  if (busy_us <= busy_.longest_busy_us) return;
  busy_.longest_busy_us = busy_us;
  const int64_t age_us = tasks_.LastRunUs(kAgeTask);
  const int64_t hashes_us = tasks_.LastRunUs(kHashTask);
  const int64_t commit_us = tasks_.LastRunUs(kCommitTask);
  busy_.longest_busy_where = fmt::format(
      "reading the source {:.1f} ms, ageing events {:.1f} ms, storing hashes {:.1f} ms, "
      "store commit {:.1f} ms, periodic checks {:.1f} ms",
      (read_done_us - start_us) / 1000.0, age_us / 1000.0, hashes_us / 1000.0, commit_us / 1000.0,
      (done_us - tasks_start_us - age_us - hashes_us - commit_us) / 1000.0);
}

}  // namespace recorder::daemon
