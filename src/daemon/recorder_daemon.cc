#include "daemon/recorder_daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <deque>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/control_channel.h"
#include "daemon/cpu_guard.h"
#include "daemon/daemon_status.h"
#include "daemon/json_lines_sink.h"
#include "daemon/recording_sink.h"
#include "enrich/enriching_sink.h"
#include "enrich/hash_cache.h"
#include "enrich/hash_worker.h"
#include "enrich/image_load_monitor.h"
#include "enrich/process_table.h"
#include "enrich/user_names.h"
#include "pipeline/pipeline.h"
#include "rules/rule_manager.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"
#include "store/event_store.h"
#include "store/retention.h"

namespace recorder::daemon {
namespace {

using config::AuditSource;
using nlohmann::json;

// Events without EOE (single-record user messages aside) close by age;
// the pipeline needs Age() at least every 500 ms, we tick twice as often.
constexpr int kTickMs = 250;
// How often the process table and the hash cache are saved besides at
// shutdown: a crash then loses at most this much of what they learned.
constexpr int64_t kSaveStateMs = 5 * 60 * 1000;
constexpr int64_t kLiveLineMs = 1000;
constexpr int64_t kRunStatsMs = 10'000;
// After the rules are gone, records already queued keep arriving briefly.
constexpr int kDrainMs = 300;
// Library loads are held this long before they are stored: the audit
// record of the exec that loaded them travels through kauditd and the
// assembler and must reach the process table first, or the load would be
// attributed to the image the pid ran before. It also gives the hash
// worker time to hash the library.
constexpr int64_t kImageHoldMs = 1000;

// The first cleanup run after start; later ones every
// DatabaseCleanupIntervalMinutes (or at once when the file passes maxSizeMB).
constexpr int64_t kFirstCleanupMs = 10'000;

store::RetentionPolicy RetentionPolicyFor(const config::RecorderConfig& config) {
  store::RetentionPolicy policy;
  policy.monitor_days = config.monitor_days;
  policy.max_size_bytes = config.max_size_mb * store::kBytesPerMB;
  policy.clean_percent_over_limit = config.clean_percent_over_limit;
  policy.max_runtime_storage_bytes = config.max_runtime_storage_size_mb * store::kBytesPerMB;
  policy.absolute_max_storage_bytes = config.absolute_max_storage_size_mb * store::kBytesPerMB;
  // Small steps on the event loop: ~5,000 rows or 1 MiB of pages take a
  // few milliseconds; a run needing more continues on the next ticks.
  policy.rows_per_step = 5'000;
  policy.vacuum_pages_per_step = 256;
  // Late records may still name an exited process for ProcessExpirationSeconds.
  policy.process_grace_ms =
      std::max<int64_t>(policy.process_grace_ms, config.process_expiration_seconds * 2000);
  return policy;
}

CpuGuardOptions CpuGuardOptionsFor(const config::RecorderConfig& config,
                                   const DaemonOptions& options) {
  CpuGuardOptions guard = CpuGuardOptions::FromConfig(config);
  if (options.cpu_window_ms_override > 0) guard.window_ms = options.cpu_window_ms_override;
  return guard;
}

int64_t WallMs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

int64_t MonotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

int64_t MonotonicUs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

int64_t FileSize(const std::string& path) {
  struct stat info {};
  if (path.empty() || stat(path.c_str(), &info) != 0) return -1;
  return static_cast<int64_t>(info.st_size);
}

// Blocks the stop/reload signals and reads them from a signalfd; puts the
// old mask back on destruction (tests run the daemon in-process).
class SignalChannel {
 public:
  SignalChannel() {
    sigemptyset(&mask_);
    sigaddset(&mask_, SIGINT);
    sigaddset(&mask_, SIGTERM);
    sigaddset(&mask_, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask_, &old_mask_);
    fd_ = signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
    old_pipe_ = signal(SIGPIPE, SIG_IGN);
  }
  ~SignalChannel() {
    if (fd_ >= 0) close(fd_);
    sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    signal(SIGPIPE, old_pipe_);
  }
  int fd() const { return fd_; }
  // The next pending signal number, 0 when none.
  int Next() {
    signalfd_siginfo info{};
    ssize_t n = read(fd_, &info, sizeof(info));
    return n == sizeof(info) ? static_cast<int>(info.ssi_signo) : 0;
  }

 private:
  sigset_t mask_{};
  sigset_t old_mask_{};
  int fd_ = -1;
  sighandler_t old_pipe_ = SIG_DFL;
};

// Removes our rules when it goes out of scope, however that happens.
class InstalledRules {
 public:
  explicit InstalledRules(rules::RuleManager* manager) : manager_(manager) {}
  ~InstalledRules() { (void)Remove(); }
  Status Remove() {
    if (!manager_) return Status::Ok();
    rules::RuleManager* manager = manager_;
    manager_ = nullptr;
    Status removed = manager->Remove();
    if (!removed.ok()) spdlog::error("removing the recorder's audit rules failed: {}", removed.message());
    else spdlog::info("audit rules with key '{}' removed", manager->config().rule_key);
    return removed;
  }
  void Replace(rules::RuleManager* manager) { manager_ = manager; }

 private:
  rules::RuleManager* manager_;
};

class Daemon {
 public:
  explicit Daemon(const DaemonOptions& options) : options_(options), config_(options.config) {}
  ~Daemon() { (void)Shutdown(); }

  Status Start();
  Status Loop();
  // Idempotent; the destructor calls it too.
  Status Shutdown();

 private:
  Status OpenSinks();
  void OpenEnrichment();
  void DrainHashes();
  // Rows the previous run left "pending" (it stopped mid-hash) get their
  // hashes now: from the cache if the file is unchanged, else hashed again.
  void ResumePendingHashes();
  void SaveEnrichmentState();
  // The limits (docs/configuration.md "Limits"): database cleanup and the
  // CPU kill switch. Disable() writes the marker and stops the loop.
  void CheckLimits(int64_t now_mono, int64_t now_wall);
  void CleanupStep(int64_t now_wall);
  void Disable(const std::string& reason);
  void StartImageMonitor();
  void StopImageMonitor();
  // Moves the monitor's records into the event path: those older than
  // kImageHoldMs, or all of them when `all`.
  Status FeedImageLoads(int64_t now_wall, bool all);
  // Counts of every monitor this run had (a reload may stop and start it).
  enrich::ImageLoadStats ImageStats() const;
  std::string ProcessStatePath() const { return config_.state_dir + "/process_state.jsonl"; }
  std::string ImageStatePath() const { return config_.state_dir + "/image_state.txt"; }
  Status OpenSource();
  Status InstallRules();
  Status ReadSource(int64_t now_wall);
  void Periodic(int64_t now_mono, int64_t now_wall);
  void CheckAuditStatus();
  void CheckRules(int64_t now_wall);
  void Reload();
  void PrintLiveLine(int64_t now_wall);
  void WriteRunStats(int64_t now_wall);
  json StatusJson(int64_t now_wall);
  std::string HandleControl(std::string_view request);

  DaemonOptions options_;
  config::RecorderConfig config_;
  AuditSource source_kind_ = AuditSource::kUnicast;
  int32_t own_pid_ = static_cast<int32_t>(getpid());

  std::unique_ptr<SignalChannel> signals_;
  std::unique_ptr<ControlServer> control_;
  bool wrote_pid_file_ = false;

  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<JsonLinesSink> json_sink_;
  std::unique_ptr<TeeSink> tee_;
  // The enrich stage (docs/enrichment.md): between self-exclusion and the
  // outputs, so the store and the JSON lines both carry it.
  std::unique_ptr<enrich::ProcessTable> processes_;
  std::unique_ptr<enrich::HashCache> hash_cache_;
  std::unique_ptr<enrich::HashWorker> hash_worker_;
  std::unique_ptr<enrich::UserNames> users_;
  std::unique_ptr<enrich::EnrichingSink> enricher_;
  // MonitorImageLoad: library loads from fanotify (docs/enrichment.md).
  std::unique_ptr<enrich::ImageLoadMonitor> images_;
  std::deque<TypedEvent> held_images_;  // image loads waiting out kImageHoldMs
  enrich::ImageLoadStats image_stats_before_;  // of monitors stopped by a reload
  std::string image_error_;
  std::unique_ptr<RecordingSink> recording_sink_;
  std::unique_ptr<Pipeline> pipeline_;

  std::unique_ptr<NetlinkSource> netlink_;
  std::unique_ptr<PluginSource> plugin_;
  std::optional<AuditStatus> status_before_;
  std::optional<AuditStatus> last_status_;

  std::unique_ptr<store::Retention> retention_;
  int64_t next_cleanup_ = 0;      // monotonic: the next scheduled cleanup run
  int64_t next_size_check_ = 0;   // monotonic: the next check for maxSizeMB
  int64_t next_cleanup_step_ = 0; // monotonic: the next step of a run in progress
  std::optional<store::RetentionResult> last_cleanup_;  // the last finished run
  int64_t last_cleanup_wall_ = 0;
  int64_t cleanup_rows_ = 0;  // rows deleted by the run in progress
  std::unique_ptr<CpuGuard> cpu_guard_;
  CpuGuardReport last_cpu_;
  int64_t next_cpu_sample_ = 0;
  std::string disabled_reason_;

  std::unique_ptr<rules::RuleManager> rules_;
  std::unique_ptr<InstalledRules> installed_;
  int rules_present_ = 0;
  int rules_missing_ = 0;
  uint64_t rule_restores_ = 0;
  int64_t last_drift_ms_ = 0;
  bool immutable_ = false;
  std::string rules_message_;

  int64_t started_wall_ = 0;
  int64_t next_age_ = 0;
  int64_t next_status_ = 0;
  int64_t next_rules_ = 0;
  int64_t next_live_line_ = 0;
  int64_t next_run_stats_ = 0;
  int64_t next_save_state_ = 0;
  bool stop_ = false;
  bool eof_ = false;
  std::string stop_reason_;
  bool shut_down_ = false;
  // How long the loop was busy between two polls: a stall here is time the
  // kernel's backlog fills while nobody reads (bench/exec_storm.sh).
  int64_t longest_busy_us_ = 0;
  uint64_t busy_over_100ms_ = 0;
  std::string longest_busy_where_;  // what that longest stretch was spent on
  bool live_line_shown_ = false;
};

Status Daemon::Start() {
  started_wall_ = WallMs();
  if (!options_.force) {
    if (std::optional<std::string> reason = ReadDisabledReason(config_.state_dir)) {
      return Status::Errorf(
          "recording is disabled ({}); fix the cause, then run 'recorder start --force'",
          *reason);
    }
  }
  signals_ = std::make_unique<SignalChannel>();
  if (signals_->fd() < 0) return Status::Errorf("signalfd failed: {}", std::strerror(errno));

  Result<std::unique_ptr<ControlServer>> control = ControlServer::Listen(config_.control_socket);
  if (!control.ok()) return control.status();
  control_ = std::move(*control);
  Status pid_file = WritePidFile(config_.pid_file);
  if (!pid_file.ok()) return pid_file;
  wrote_pid_file_ = true;

  Status sinks = OpenSinks();
  if (!sinks.ok()) return sinks;
  Status source = OpenSource();
  if (!source.ok()) return source;
  // Rules last: from here on the kernel produces records, and we read them.
  Status rules = InstallRules();
  if (!rules.ok()) return rules;
  StartImageMonitor();

  int64_t now = MonotonicMs();
  if (store_) {
    retention_ = std::make_unique<store::Retention>(RetentionPolicyFor(config_));
    // A first run soon after start (a recorder that was off for weeks has
    // old rows to drop), then every DatabaseCleanupIntervalMinutes.
    next_cleanup_ = now + kFirstCleanupMs;
    next_size_check_ = now + options_.limits_check_interval_ms;
  }
  cpu_guard_ = std::make_unique<CpuGuard>(CpuGuardOptionsFor(config_, options_));
  next_cpu_sample_ = now;
  next_age_ = now + kTickMs;
  next_status_ = now + options_.status_check_interval_ms;
  next_rules_ = now + options_.rule_check_interval_ms;
  next_live_line_ = now + kLiveLineMs;
  next_run_stats_ = now + kRunStatsMs;
  next_save_state_ = now + kSaveStateMs;
  spdlog::info("recording from {} (pid {}){}{}", config::AuditSourceName(source_kind_), own_pid_,
               options_.db_path.empty() ? "" : " into ", options_.db_path);
  return Status::Ok();
}

Status Daemon::OpenSinks() {
  std::vector<EventSink*> sinks;
  if (!options_.db_path.empty()) {
    store::EventStoreOptions store_options;
    store_options.batch_write_delay_ms = config_.batch_write_delay_ms;
    store_options.process_expiration_ms = config_.process_expiration_seconds * 1000;
    // The event loop commits: keep SQLite's checkpoints (page write-back and
    // fsync, ~90 ms) out of it, on the store's checkpoint thread.
    store_options.background_checkpoint = true;
    Result<std::unique_ptr<store::EventStore>> store =
        store::EventStore::Open(options_.db_path, store_options);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    Result<int64_t> run = store_->BeginRun(
        fmt::format("live:{}", config::AuditSourceName(ResolveSource(options_.source))),
        started_wall_);
    if (!run.ok()) return run.status();
    sinks.push_back(store_.get());
  }
  if (options_.stdout_json) {
    json_sink_ = std::make_unique<JsonLinesSink>(stdout);
  } else if (!options_.json_out.empty()) {
    Result<std::unique_ptr<JsonLinesSink>> file = JsonLinesSink::OpenFile(options_.json_out);
    if (!file.ok()) return file.status();
    json_sink_ = std::move(*file);
  }
  if (json_sink_) sinks.push_back(json_sink_.get());
  if (sinks.empty())
    return Status::Error("nowhere to record: give a database (--db) or --stdout-json");
  tee_ = std::make_unique<TeeSink>(sinks);
  OpenEnrichment();
  ResumePendingHashes();
  recording_sink_ = std::make_unique<RecordingSink>(enricher_.get(), own_pid_);
  PipelineOptions pipeline_options;
  // Live: small batches, so events reach the store within a tick.
  pipeline_options.sink_batch = 256;
  pipeline_ = std::make_unique<Pipeline>(pipeline_options, nullptr, recording_sink_.get());
  return Status::Ok();
}

void Daemon::OpenEnrichment() {
  std::error_code ignored;
  std::filesystem::create_directories(config_.state_dir, ignored);
  const int64_t now = WallMs();
  enrich::ProcessTableOptions table_options;
  table_options.expiration_seconds = config_.process_expiration_seconds;
  processes_ = std::make_unique<enrich::ProcessTable>(table_options);
  // The saved table keeps what /proc no longer shows: the start times and
  // parents of processes that exec'd while we watched. A missing file is
  // the first start; a bad one is reported and replaced.
  if (std::filesystem::exists(ProcessStatePath(), ignored)) {
    Status loaded = processes_->LoadState(ProcessStatePath());
    if (!loaded.ok()) spdlog::warn("process state not loaded, starting fresh: {}", loaded.message());
  }
  Status seeded = processes_->SeedFromProc(now);
  if (!seeded.ok()) spdlog::warn("reading /proc failed: {}", seeded.message());
  spdlog::info("process table: {} processes", processes_->size());

  hash_cache_ = std::make_unique<enrich::HashCache>();
  if (std::filesystem::exists(ImageStatePath(), ignored)) {
    Status loaded = hash_cache_->Load(ImageStatePath());
    if (!loaded.ok()) spdlog::warn("hash cache not loaded: {}", loaded.message());
  }
  hash_worker_ = std::make_unique<enrich::HashWorker>(hash_cache_.get());
  hash_worker_->Start();
  users_ = std::make_unique<enrich::UserNames>();
  enrich::EnrichingSinkOptions enrich_options;
  enrich_options.probe_proc = true;
  enrich_options.hash_executables = true;
  enrich_options.live_paths = true;
  enricher_ = std::make_unique<enrich::EnrichingSink>(tee_.get(), processes_.get(), users_.get(),
                                                      hash_worker_.get(), enrich_options);
}

void Daemon::Disable(const std::string& reason) {
  // The manual: after an automatic disable the recorder stays stopped until
  // someone starts it by hand (`recorder start --force`).
  Status written = WriteDisabled(config_.state_dir, reason);
  if (!written.ok()) spdlog::error("writing the disabled marker failed: {}", written.message());
  spdlog::error("recording disabled: {}; it stays off until 'recorder start --force'", reason);
  disabled_reason_ = reason;
  stop_ = true;
  stop_reason_ = "disabled: " + reason;
}

void Daemon::CleanupStep(int64_t now_wall) {
  // Retention commits its own work: the store's open batch goes first.
  Status flushed = store_->Flush();
  if (!flushed.ok()) {
    spdlog::warn("database cleanup postponed: flushing the store failed: {}", flushed.message());
    return;
  }
  Result<store::RetentionResult> step = retention_->Step(store_->database(), now_wall);
  if (!step.ok()) {
    spdlog::warn("database cleanup failed (the next run starts over): {}",
                 step.status().message());
    cleanup_rows_ = 0;
    return;
  }
  cleanup_rows_ += step->total_deleted();
  if (step->run_finished) {
    if (cleanup_rows_ > 0 || step->size_cleanup) {
      spdlog::info("database cleanup: {} rows deleted, {:.1f} MB -> {:.1f} MB{}", cleanup_rows_,
                   static_cast<double>(step->before.total_bytes()) / store::kBytesPerMB,
                   static_cast<double>(step->after.total_bytes()) / store::kBytesPerMB,
                   step->size_cleanup ? " (over maxSizeMB)" : "");
    }
    last_cleanup_ = *step;
    last_cleanup_->rows_deleted.clear();
    last_cleanup_wall_ = now_wall;
    cleanup_rows_ = 0;
  }
  if (step->disable) Disable(step->disable_reason);
}

void Daemon::CheckLimits(int64_t now_mono, int64_t now_wall) {
  if (retention_) {
    if (!retention_->in_run() && now_mono >= next_size_check_) {
      next_size_check_ = now_mono + options_.limits_check_interval_ms;
      Result<store::StorageSize> size = store::MeasureStorage(store_->database());
      if (size.ok() && retention_->OverSizeLimit(*size)) next_cleanup_ = now_mono;
    }
    // One step per tick, not per wake-up of the loop: each step commits
    // the open batch first, and the loop wakes for every netlink read.
    const bool due = retention_->in_run() ? now_mono >= next_cleanup_step_
                                          : now_mono >= next_cleanup_;
    if (due) {
      if (!retention_->in_run())
        next_cleanup_ = now_mono + int64_t{config_.database_cleanup_interval_minutes} * 60'000;
      next_cleanup_step_ = now_mono + kTickMs;
      CleanupStep(now_wall);
    }
  }
  if (cpu_guard_ && !stop_ && now_mono >= next_cpu_sample_) {
    next_cpu_sample_ = now_mono + options_.limits_check_interval_ms;
    Result<CpuSample> sample = ReadCpuSample();
    if (sample.ok()) {
      CpuGuardReport report = cpu_guard_->Feed(*sample);
      if (report.window_closed) {
        last_cpu_ = report;
        if (report.violation)
          spdlog::warn("CPU use {:.1f}% of the machine over {} s is above cpuThreshold {:.1f}% "
                       "(violation {} of {})",
                       report.usage * 100, report.window_ms / 1000,
                       cpu_guard_->options().threshold * 100, report.violations,
                       cpu_guard_->options().kill_after_violations);
      }
      if (report.kill) Disable(report.reason);
    }
  }
}

void Daemon::StartImageMonitor() {
  if (!config_.monitor_image_load || images_) return;
  enrich::ImageLoadMonitorOptions image_options;
  image_options.enabled = true;
  images_ = std::make_unique<enrich::ImageLoadMonitor>(image_options);
  Status started = images_->Start();
  if (!started.ok()) {
    // Recording goes on without library loads; status says why.
    image_error_ = started.message();
    images_.reset();
    spdlog::error("MonitorImageLoad: library loads are not recorded: {}", image_error_);
    return;
  }
  image_error_.clear();
  spdlog::info("MonitorImageLoad: recording library loads (fanotify)");
}

void Daemon::StopImageMonitor() {
  if (!images_) return;
  images_->Stop();
  if (recording_sink_) (void)FeedImageLoads(WallMs(), /*all=*/true);
  image_stats_before_ = ImageStats();
  images_.reset();
}

enrich::ImageLoadStats Daemon::ImageStats() const {
  enrich::ImageLoadStats total = image_stats_before_;
  if (!images_) return total;
  const enrich::ImageLoadStats now = images_->stats();
  total.events += now.events;
  total.libraries += now.libraries;
  total.executables += now.executables;
  total.not_library += now.not_library;
  total.overflows += now.overflows;
  total.dropped += now.dropped;
  total.marks_failed += now.marks_failed;
  return total;
}

Status Daemon::FeedImageLoads(int64_t now_wall, bool all) {
  if (images_) {
    for (enrich::ImageLoad& load : images_->Take()) {
      TypedEvent event;
      event.header.time_ms = load.time_ms;
      event.subject.pid = load.pid;
      ImageLoadEvent body;
      body.executable = load.kind == enrich::ImageKind::kExecutable;
      if (hash_worker_) {
        // A cache hit answers now; a miss starts hashing, and by the time
        // the load is released the worker has usually finished.
        enrich::HashLookup hash = hash_worker_->Lookup(load.path);
        body.sha256 = std::move(hash.hashes.sha256);
        body.hash_note = std::move(hash.hashes.note);
      }
      body.path = std::move(load.path);
      event.body = std::move(body);
      held_images_.push_back(std::move(event));
    }
  }
  EventBatch batch;
  while (!held_images_.empty() &&
         (all || held_images_.front().header.time_ms <= now_wall - kImageHoldMs)) {
    auto& body = std::get<ImageLoadEvent>(held_images_.front().body);
    if (hash_worker_ && body.hash_note == enrich::kNotePending) {
      enrich::HashLookup hash = hash_worker_->Lookup(body.path);
      body.sha256 = std::move(hash.hashes.sha256);
      body.hash_note = std::move(hash.hashes.note);
    }
    batch.push_back(std::move(held_images_.front()));
    held_images_.pop_front();
  }
  if (batch.empty()) return Status::Ok();
  recording_sink_->set_now(now_wall);
  return recording_sink_->Consume(&batch);
}

void Daemon::ResumePendingHashes() {
  if (!store_ || !hash_worker_) return;
  Result<std::vector<std::string>> exes = store_->AdoptPendingHashes();
  if (!exes.ok()) {
    spdlog::warn("looking for hashes left pending: {}", exes.status().message());
    return;
  }
  for (const std::string& exe : *exes) {
    enrich::HashLookup lookup = hash_worker_->Lookup(exe);
    if (lookup.state == enrich::HashState::kPending) continue;  // a completion follows
    Result<int64_t> updated = store_->UpdateHashes(exe, lookup.hashes.sha256, lookup.hashes.md5,
                                                   lookup.hashes.note);
    if (!updated.ok()) spdlog::warn("storing the hash of {} failed: {}", exe,
                                    updated.status().message());
  }
  if (!exes->empty())
    spdlog::info("{} executables left without a hash by the previous run: hashing them",
                 exes->size());
}

void Daemon::DrainHashes() {
  if (!hash_worker_) return;
  std::vector<enrich::HashCompletion> done = hash_worker_->TakeCompletions();
  if (!store_) return;
  for (const enrich::HashCompletion& c : done) {
    Result<int64_t> updated = store_->UpdateHashes(c.path, c.hashes.sha256, c.hashes.md5,
                                                   c.hashes.note);
    if (!updated.ok()) spdlog::warn("storing the hash of {} failed: {}", c.path,
                                    updated.status().message());
  }
}

void Daemon::SaveEnrichmentState() {
  if (processes_) {
    Status saved = processes_->SaveState(ProcessStatePath());
    if (!saved.ok()) spdlog::warn("saving the process state failed: {}", saved.message());
  }
  if (hash_cache_) {
    Status saved = hash_cache_->Save(ImageStatePath());
    if (!saved.ok()) spdlog::warn("saving the hash cache failed: {}", saved.message());
  }
}

Status Daemon::OpenSource() {
  source_kind_ = ResolveSource(options_.source);
  Result<AuditStatus> before = ReadAuditStatus();
  if (!before.ok()) return before.status();
  status_before_ = *before;
  last_status_ = *before;
  if (source_kind_ == AuditSource::kPlugin) {
    plugin_ = std::make_unique<PluginSource>(options_.stdin_fd);
    return Status::Ok();
  }
  NetlinkOptions netlink_options;
  netlink_options.mode =
      source_kind_ == AuditSource::kMulticast ? NetlinkMode::kMulticast : NetlinkMode::kUnicast;
  netlink_options.backlog_limit = config_.backlog_limit;
  netlink_options.backlog_wait_time = config_.backlog_wait_time;
  Result<std::unique_ptr<NetlinkSource>> netlink = NetlinkSource::Open(netlink_options);
  if (!netlink.ok()) return netlink.status();
  netlink_ = std::move(*netlink);
  if (source_kind_ == AuditSource::kMulticast && before->enabled == 0)
    spdlog::warn("kernel auditing is off (enabled 0): the multicast source sees nothing until "
                 "auditd or 'auditctl -e 1' turns it on");
  return Status::Ok();
}

Status Daemon::InstallRules() {
  rules_ = std::make_unique<rules::RuleManager>(config_);
  Result<rules::InstallReport> report = rules_->Install();
  if (!report.ok()) return Status::Errorf("installing audit rules failed: {}", report.status().message());
  installed_ = std::make_unique<InstalledRules>(rules_.get());
  immutable_ = report->immutable;
  rules_message_ = report->message;
  rules_present_ = report->added + report->already;
  rules_missing_ = static_cast<int>(report->missing.size());
  if (report->immutable) {
    spdlog::warn("audit rules are immutable (-e 2): {}", report->message);
  } else {
    spdlog::info("audit rules with key '{}': {} added, {} already present", config_.rule_key,
                 report->added, report->already);
  }
  return Status::Ok();
}

Status Daemon::ReadSource(int64_t now_wall) {
  recording_sink_->set_now(now_wall);
  if (netlink_) {
    return netlink_->ReadPending([&](int type, std::string_view body) {
      return pipeline_->FeedBody(type, body, now_wall);
    });
  }
  Result<PluginSource::Next> next = plugin_->ReadPending(
      [&](std::string_view line) { return pipeline_->FeedLine(line, now_wall); });
  if (!next.ok()) return next.status();
  if (*next == PluginSource::Next::kEnd) {
    eof_ = true;
    stop_ = true;
    stop_reason_ = "end of input (auditd stopped)";
  }
  return Status::Ok();
}

void Daemon::CheckAuditStatus() {
  Result<AuditStatus> status =
      netlink_ ? netlink_->CheckStatus() : ReadAuditStatus();
  if (!status.ok()) {
    spdlog::warn("reading the audit status failed: {}", status.status().message());
    return;
  }
  if (last_status_ && status->lost > last_status_->lost) {
    spdlog::warn("the kernel lost {} audit records (backlog full or rate limit); total lost {}",
                 status->lost - last_status_->lost, status->lost);
  }
  last_status_ = *status;
  if (netlink_ && netlink_->pid_lost()) {
    // Loud on every check: nothing is being recorded until someone acts.
    spdlog::error(
        "LOST THE AUDIT CONNECTION: {} is now the kernel's audit daemon; this recorder receives "
        "no records (stop the other daemon and restart, or use --source multicast)",
        status->pid == 0 ? std::string("no process") : fmt::format("pid {}", status->pid));
  }
}

void Daemon::CheckRules(int64_t now_wall) {
  Result<rules::RuleCheck> check = rules_->Check();
  if (!check.ok()) {
    spdlog::warn("checking the audit rules failed: {}", check.status().message());
    return;
  }
  rules_present_ = check->present;
  rules_missing_ = static_cast<int>(check->missing.size());
  immutable_ = check->immutable;
  if (check->missing.empty()) return;
  last_drift_ms_ = now_wall;
  spdlog::warn("{} of the recorder's audit rules were removed from the kernel (drift)",
               check->missing.size());
  if (check->immutable) return;
  Status restored = rules_->Restore();
  if (!restored.ok()) {
    spdlog::error("restoring the audit rules failed: {}", restored.message());
    return;
  }
  ++rule_restores_;
  rules_present_ += rules_missing_;
  rules_missing_ = 0;
  spdlog::warn("audit rules restored");
}

void Daemon::Reload() {
  if (options_.config_dir.empty()) {
    spdlog::info("SIGHUP: no configuration directory to reload");
    return;
  }
  Result<config::LoadedConfig> loaded = config::LoadConfig(options_.config_dir);
  if (!loaded.ok()) {
    spdlog::error("SIGHUP: configuration not reloaded: {}", loaded.status().message());
    return;
  }
  for (const std::string& warning : loaded->warnings) spdlog::warn("config: {}", warning);
  config::RecorderConfig next = loaded->config;
  // What the process is bound to stays: paths of the socket, pid file,
  // state and the rule key (the installed rules carry it).
  next.control_socket = config_.control_socket;
  next.pid_file = config_.pid_file;
  next.state_dir = config_.state_dir;
  next.rule_key = config_.rule_key;
  next.recorder_exe = config_.recorder_exe;
  auto manager = std::make_unique<rules::RuleManager>(next);
  // Remove the old set, install the new one (same key, so Remove clears
  // exactly ours).
  (void)installed_->Remove();
  rules_ = std::move(manager);
  installed_->Replace(rules_.get());
  Result<rules::InstallReport> report = rules_->Install();
  if (!report.ok()) {
    spdlog::error("SIGHUP: installing the new rules failed: {}", report.status().message());
  } else {
    rules_present_ = report->added + report->already;
    rules_missing_ = static_cast<int>(report->missing.size());
  }
  config_ = next;
  if (retention_) {
    // Every step commits on its own, so a run in progress can stop here;
    // it starts over at once under the new limits.
    if (retention_->in_run()) next_cleanup_ = MonotonicMs();
    cleanup_rows_ = 0;
    retention_ = std::make_unique<store::Retention>(RetentionPolicyFor(config_));
  }
  // A changed kill switch starts counting afresh.
  const CpuGuardOptions guard_options = CpuGuardOptionsFor(config_, options_);
  if (cpu_guard_ && !(cpu_guard_->options() == guard_options))
    cpu_guard_ = std::make_unique<CpuGuard>(guard_options);
  // Both check the current state (and a start that failed is retried).
  if (config_.monitor_image_load) {
    StartImageMonitor();
  } else {
    StopImageMonitor();
  }
  spdlog::info("SIGHUP: configuration reloaded from {}", options_.config_dir);
}

json Daemon::StatusJson(int64_t now_wall) {
  json status;
  status["state"] = "running";
  status["pid"] = own_pid_;
  status["source"] = config::AuditSourceName(source_kind_);
  status["started_ms"] = started_wall_;
  status["uptime_s"] = (now_wall - started_wall_) / 1000;
  const EventCounters& counters = recording_sink_->counters();
  json events = json::object();
  double total_rate = 0;
  for (size_t kind = 0; kind < kEventKinds; ++kind) {
    double rate = counters.PerSecond(kind, now_wall, started_wall_);
    total_rate += rate;
    events[std::string(EventKindName(kind))] = {{"total", counters.total(kind)},
                                                  {"per_second", rate}};
  }
  status["events"] = events;
  status["events_total"] = counters.total();
  status["events_per_second"] = total_rate;
  if (last_status_) {
    status["kernel_lost"] = last_status_->lost;
    status["kernel_lost_since_start"] =
        status_before_ ? last_status_->lost - status_before_->lost : 0;
    status["audit_enabled"] = last_status_->enabled;
    status["audit_pid"] = last_status_->pid;
    status["backlog"] = last_status_->backlog;
    status["backlog_limit"] = last_status_->backlog_limit;
  }
  uint64_t drops = 0;
  if (netlink_) drops += netlink_->stats().overruns;
  if (plugin_) drops += plugin_->stats().too_long;
  status["drops"] = drops;
  status["self_excluded"] = recording_sink_->self_dropped();
  status["malformed"] = pipeline_->stats().malformed;
  status["records"] = pipeline_->stats().lines;
  if (netlink_ && netlink_->mode() == NetlinkMode::kUnicast) {
    status["audit_pid_lost"] = netlink_->pid_lost();
    if (netlink_->pid_lost()) {
      status["warning"] = fmt::format("lost the audit connection to pid {}", netlink_->holder_pid());
    }
  }
  status["db"] = {{"path", options_.db_path}, {"size_bytes", FileSize(options_.db_path)}};
  status["rules"] = {{"key", config_.rule_key},
                     {"installed", rules_present_},
                     {"missing", rules_missing_},
                     {"restored", rule_restores_},
                     {"last_drift_ms", last_drift_ms_}};
  {
    const enrich::ImageLoadStats images = ImageStats();
    json image_status = {{"enabled", config_.monitor_image_load},
                         {"running", images_ != nullptr},
                         {"libraries", images.libraries},
                         {"kernel_overflows", images.overflows},
                         {"dropped", images.dropped},
                         {"held", held_images_.size()}};
    if (!image_error_.empty()) image_status["error"] = image_error_;
    status["image_loads"] = image_status;
  }
  {
    json limits;
    limits["cpu"] = {{"threshold", config_.cpu_threshold},
                     {"kill_enabled", config_.cpu_kill_enabled},
                     {"violations", cpu_guard_ ? cpu_guard_->violations() : 0},
                     {"kill_after_violations", config_.cpu_kill_after_num_violations},
                     {"last_window_usage", last_cpu_.usage},
                     {"last_window_ms", last_cpu_.window_ms}};
    json storage = {{"max_size_mb", config_.max_size_mb},
                    {"monitor_days", config_.monitor_days},
                    {"cleanup_running", retention_ && retention_->in_run()}};
    if (last_cleanup_) {
      storage["last_cleanup_ms"] = last_cleanup_wall_;
      storage["last_cleanup_bytes_after"] = last_cleanup_->after.total_bytes();
    }
    limits["storage"] = storage;
    status["limits"] = limits;
  }
  status["loop"] = {{"longest_busy_ms", static_cast<double>(longest_busy_us_) / 1000.0},
                    {"longest_busy_where", longest_busy_where_},
                    {"busy_over_100ms", busy_over_100ms_}};
  if (store_) {
    const store::StoreCheckpointStats checkpoints = store_->checkpoint_stats();
    json checkpoint_status = {{"background", checkpoints.background},
                              {"checkpoints", checkpoints.thread.checkpoints},
                              {"frames_checkpointed", checkpoints.thread.frames_checkpointed},
                              {"longest_ms", checkpoints.thread.longest_ms},
                              {"busy", checkpoints.thread.busy},
                              {"errors", checkpoints.thread.errors},
                              {"wal_frames", checkpoints.wal_frames},
                              {"wal_frames_left", checkpoints.thread.last_wal_frames_left},
                              {"writer_fallbacks", checkpoints.writer_checkpoints},
                              {"writer_fallback_frames", checkpoints.writer_frames},
                              {"writer_fallback_longest_ms", checkpoints.writer_longest_ms}};
    if (!checkpoints.thread.last_error.empty())
      checkpoint_status["last_error"] = checkpoints.thread.last_error;
    status["checkpoints"] = checkpoint_status;
  }
  if (hash_worker_) {
    enrich::HashWorkerStats hashes = hash_worker_->stats();
    status["hashes"] = {{"hashed", hashes.hashed},
                        {"queue_full", hashes.dropped},
                        {"cache_entries", hash_cache_ ? hash_cache_->size() : 0}};
  }
  status["immutable"] = immutable_;
  status["restart_needed"] = immutable_ && rules_missing_ > 0;
  if (!rules_message_.empty()) status["rules_message"] = rules_message_;
  return status;
}

std::string Daemon::HandleControl(std::string_view request) {
  if (request == "ping") return R"({"ok":true})";
  if (request == "status") return StatusJson(WallMs()).dump();
  if (request == "stop") {
    stop_ = true;
    stop_reason_ = "recorder stop";
    return R"({"ok":true,"stopping":true})";
  }
  return json{{"ok", false}, {"error", fmt::format("unknown request '{}'", request)}}.dump();
}

void Daemon::PrintLiveLine(int64_t now_wall) {
  const EventCounters& c = recording_sink_->counters();
  uint64_t drops = netlink_ ? netlink_->stats().overruns : plugin_->stats().too_long;
  std::string line = fmt::format(
      "\r\033[K{}: proc {}/s exit {}/s file {}/s net {}/s sec {}/s mod {}/s img {}/s | total {} | "
      "kernel lost {} | drops {}",
      config::AuditSourceName(source_kind_), c.LastSecond(0, now_wall),
      c.LastSecond(1, now_wall), c.LastSecond(2, now_wall), c.LastSecond(3, now_wall),
      c.LastSecond(4, now_wall), c.LastSecond(5, now_wall), c.LastSecond(6, now_wall), c.total(),
      last_status_ ? last_status_->lost : 0, drops);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  live_line_shown_ = true;
}

void Daemon::WriteRunStats(int64_t now_wall) {
  if (!store_) return;
  store::RunStats stats;
  const PipelineStats& p = pipeline_->stats();
  stats.lines = p.lines;
  stats.bytes = p.bytes;
  stats.records = p.lines - p.malformed;
  stats.malformed = p.malformed;
  stats.truncated = p.truncated;
  stats.audit_events = pipeline_->normalizer_stats().events_in;
  stats.partial_events = pipeline_->normalizer_stats().partial;
  stats.ignored_events = pipeline_->normalizer_stats().ignored;
  if (last_status_ && status_before_) stats.kernel_lost = last_status_->lost - status_before_->lost;
  if (netlink_) stats.dropped_backlog = netlink_->stats().overruns;
  if (plugin_) stats.dropped_other = plugin_->stats().too_long;
  {
    // Library loads the kernel's fanotify queue or our queue dropped.
    const enrich::ImageLoadStats images = ImageStats();
    stats.dropped_queue_full += images.dropped;
    stats.dropped_other += images.overflows;
  }
  stats.error = stop_reason_.rfind("error", 0) == 0 ? stop_reason_ : "";
  Status status = store_->RecordRunStats(stats, now_wall);
  if (!status.ok()) spdlog::warn("writing run statistics failed: {}", status.message());
}

void Daemon::Periodic(int64_t now_mono, int64_t now_wall) {
  if (now_mono >= next_status_) {
    next_status_ = now_mono + options_.status_check_interval_ms;
    CheckAuditStatus();
  }
  if (now_mono >= next_rules_) {
    next_rules_ = now_mono + options_.rule_check_interval_ms;
    CheckRules(now_wall);
  }
  if (now_mono >= next_save_state_) {
    next_save_state_ = now_mono + kSaveStateMs;
    SaveEnrichmentState();
  }
  if (now_mono >= next_run_stats_) {
    next_run_stats_ = now_mono + kRunStatsMs;
    WriteRunStats(now_wall);
  }
  CheckLimits(now_mono, now_wall);
  if (options_.live_line && now_mono >= next_live_line_) {
    next_live_line_ = now_mono + kLiveLineMs;
    PrintLiveLine(now_wall);
  }
}

Status Daemon::Loop() {
  while (!stop_) {
    int64_t now_mono = MonotonicMs();
    int timeout = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(next_age_ - now_mono, kTickMs)));
    pollfd fds[3] = {{signals_->fd(), POLLIN, 0},
                     {control_->fd(), POLLIN, 0},
                     {netlink_ ? netlink_->fd() : plugin_->fd(), POLLIN, 0}};
    int ready = poll(fds, 3, timeout);
    if (ready < 0 && errno != EINTR) return Status::Errorf("poll failed: {}", std::strerror(errno));
    int64_t now_wall = WallMs();
    now_mono = MonotonicMs();
    const int64_t busy_start_us = MonotonicUs();
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      while (int signal_number = signals_->Next()) {
        if (signal_number == SIGHUP) {
          Reload();
        } else {
          stop_ = true;
          stop_reason_ = signal_number == SIGINT ? "SIGINT" : "SIGTERM";
        }
      }
    }
    if (ready > 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      Status read = ReadSource(now_wall);
      if (!read.ok()) return read;
    }
    const int64_t read_done_us = MonotonicUs();
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      control_->ServePending([this](std::string_view request) { return HandleControl(request); });
    }
    const int64_t tick_start_us = MonotonicUs();
    int64_t hashes_start_us = tick_start_us, commit_start_us = tick_start_us;
    if (now_mono >= next_age_) {
      next_age_ = now_mono + kTickMs;
      recording_sink_->set_now(now_wall);
      Status aged = pipeline_->Age(now_wall);
      if (!aged.ok()) return aged;
      // Events waiting for their file paths, when no new event came.
      Status paths = enricher_->Tick(now_wall);
      if (!paths.ok()) return paths;
      Status images = FeedImageLoads(now_wall, /*all=*/false);
      if (!images.ok()) return images;
      hashes_start_us = MonotonicUs();
      DrainHashes();
      commit_start_us = MonotonicUs();
      if (store_) {
        Status ticked = store_->Tick(MonotonicMs());
        if (!ticked.ok()) return ticked;
      }
    }
    const int64_t periodic_start_us = MonotonicUs();
    Periodic(now_mono, now_wall);
    const int64_t done_us = MonotonicUs();
    const int64_t busy_us = done_us - busy_start_us;
    if (busy_us > longest_busy_us_) {
      longest_busy_us_ = busy_us;
      longest_busy_where_ = fmt::format(
          "reading the source {:.1f} ms, ageing events {:.1f} ms, storing hashes {:.1f} ms, "
          "store commit {:.1f} ms, periodic checks {:.1f} ms",
          (read_done_us - busy_start_us) / 1000.0, (hashes_start_us - tick_start_us) / 1000.0,
          (commit_start_us - hashes_start_us) / 1000.0,
          (periodic_start_us - std::max(commit_start_us, tick_start_us)) / 1000.0,
          (done_us - periodic_start_us) / 1000.0);
    }
    if (busy_us > 100'000) ++busy_over_100ms_;
  }
  // A stop by the limits is not a clean stop: `recorder run` exits non-zero.
  if (!disabled_reason_.empty()) return Status::Errorf("recording disabled: {}", disabled_reason_);
  return Status::Ok();
}

Status Daemon::Shutdown() {
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  if (live_line_shown_) std::fputs("\n", stderr);
  Status result = Status::Ok();
  auto keep = [&result](Status status) {
    if (result.ok() && !status.ok()) result = std::move(status);
  };
  if (installed_) keep(installed_->Remove());
  // Records of events that happened before the rules went are still
  // queued in the kernel or the socket: read them for a moment.
  if (pipeline_ && netlink_ && !eof_) {
    int64_t until = MonotonicMs() + kDrainMs;
    while (MonotonicMs() < until) {
      pollfd fd{netlink_->fd(), POLLIN, 0};
      if (poll(&fd, 1, 50) > 0) (void)ReadSource(WallMs());
    }
  }
  if (pipeline_) {
    recording_sink_->set_now(WallMs());
    Status finished = pipeline_->Finish();
    if (!finished.ok()) spdlog::error("flushing the last events failed: {}", finished.message());
    keep(finished);
    // After the audit events: the loads' execs are in the table by now.
    StopImageMonitor();
  }
  if (last_status_ || status_before_) {
    Result<AuditStatus> now = ReadAuditStatus();
    if (now.ok()) last_status_ = *now;
  }
  if (hash_worker_) {
    // Hashes of the last execs: worth a short wait, the rows say "pending"
    // forever otherwise.
    (void)hash_worker_->WaitIdle(2000);
    hash_worker_->Stop();
    DrainHashes();
  }
  SaveEnrichmentState();
  WriteRunStats(WallMs());
  if (store_) {
    keep(store_->Flush());
    // Before the store's connection closes: that close, the last one,
    // then checkpoints what is left and removes the WAL.
    store_->StopBackgroundCheckpoint();
  }
  if (netlink_) {
    Status closed = netlink_->Close();
    if (!closed.ok()) spdlog::error("restoring the audit status failed: {}", closed.message());
    keep(closed);
  }
  // RuleManager::Install sets backlog_limit for every source; put back the
  // value we found (unicast's Close did so already; this covers the rest).
  if (status_before_ && source_kind_ != AuditSource::kUnicast) {
    Result<std::unique_ptr<NetlinkControl>> control = NetlinkControl::Open();
    if (control.ok()) {
      Result<AuditStatus> now = (*control)->GetStatus();
      if (now.ok() && (now->backlog_limit != status_before_->backlog_limit ||
                       now->backlog_wait_time != status_before_->backlog_wait_time)) {
        Status restored = (*control)->SetBacklog(status_before_->backlog_limit,
                                                 status_before_->backlog_wait_time);
        if (!restored.ok())
          spdlog::warn("restoring the kernel backlog settings failed: {}", restored.message());
      }
    }
  }
  control_.reset();
  if (wrote_pid_file_) RemovePidFile(config_.pid_file);
  signals_.reset();
  if (!stop_reason_.empty()) spdlog::info("stopped ({})", stop_reason_);
  return result;
}

Status RunDaemonOrThrow(const DaemonOptions& options) {
  Daemon daemon(options);
  Status started = daemon.Start();
  if (!started.ok()) {
    (void)daemon.Shutdown();
    return started;
  }
  Status looped = daemon.Loop();
  if (!looped.ok()) spdlog::error("recording stopped: {}", looped.message());
  Status shut = daemon.Shutdown();
  return looped.ok() ? shut : looped;
}

}  // namespace

AuditSource ResolveSource(AuditSource requested) {
  if (requested != AuditSource::kAuto) return requested;
  if (LaunchedAsAuditPlugin()) return AuditSource::kPlugin;
  if (AuditdRunning()) return AuditSource::kMulticast;
  return AuditSource::kUnicast;
}

Status RunDaemon(const DaemonOptions& options) {
  try {
    return RunDaemonOrThrow(options);
  } catch (const std::exception& e) {
    // The Daemon's destructor already ran the shutdown while unwinding.
    return Status::Errorf("recording stopped by an internal error: {}", e.what());
  } catch (...) {
    return Status::Error("recording stopped by an unknown internal error");
  }
}

}  // namespace recorder::daemon
