#include "daemon/limit_tasks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace recorder::daemon {

store::RetentionPolicy RetentionPolicyFor(const config::RecorderConfig& config) {
  store::RetentionPolicy policy;
  policy.monitor_days = config.monitor_days;
  policy.max_size_bytes = config.max_size_mb * store::kBytesPerMB;
  policy.clean_percent_over_limit = config.clean_percent_over_limit;
  policy.max_runtime_storage_bytes = config.max_runtime_storage_size_mb * store::kBytesPerMB;
  policy.absolute_max_storage_bytes = config.absolute_max_storage_size_mb * store::kBytesPerMB;
  // Small steps, so one turn of the event loop stays short while the
  // source waits; a run needing more continues on the next ticks.
  policy.rows_per_step = 5'000;
  policy.vacuum_pages_per_step = 256;
  // Late records may still name an exited process for ProcessExpirationSeconds.
  policy.process_grace_ms =
      std::max<int64_t>(policy.process_grace_ms, config.process_expiration_seconds * 2000);
  return policy;
}

std::string CleanupSummary(const std::map<std::string, int64_t>& rows, int monitor_days,
                           bool size_cleanup, const store::StorageSize& before,
                           const store::StorageSize& after, bool checkpoint_blocked) {
  int64_t events = 0, processes = 0, keys = 0;
  for (const auto& [table, count] : rows) {
    if (table == "process_data") {
      processes += count;
    } else if (table == "audit_events") {
      keys += count;  // the duplicate check's keys go with their events' age
    } else {
      events += count;
    }
  }
  if (events == 0 && processes == 0 && keys == 0 && !size_cleanup) return "";
  auto plural = [](int64_t n, const char* one, const char* many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
  };
  std::string why;
  if (size_cleanup) {
    why = monitor_days > 0
              ? fmt::format("the oldest, over maxSizeMB, or older than MonitorDays ({} days)",
                            monitor_days)
              : "the oldest, over maxSizeMB";
  } else {
    why = fmt::format("older than MonitorDays ({} days)", monitor_days);
  }
  std::string text =
      fmt::format("database cleanup: deleted {} ({})", plural(events, "event", "events"), why);
  if (processes > 0) {
    text += fmt::format(
        " and {} that no kept event refers to (processes that ended or whose pid a later "
        "process took, placeholders for processes seen without their start)",
        plural(processes, "process row", "process rows"));
  }
  text += fmt::format("; {:.1f} MB -> {:.1f} MB",
                      static_cast<double>(before.total_bytes()) / store::kBytesPerMB,
                      static_cast<double>(after.total_bytes()) / store::kBytesPerMB);
  if (checkpoint_blocked && after.wal_bytes > 0) {
    text += fmt::format(
        " (of which the WAL {:.1f} MB: a reader or another checkpoint kept it from being "
        "truncated)",
        static_cast<double>(after.wal_bytes) / store::kBytesPerMB);
  }
  return text;
}

int64_t ChunkSizeBytesFor(const config::RecorderConfig& config) {
  int64_t chunk = config.sqlite_chunk_size_mb * store::kBytesPerMB;
  if (config.max_size_mb > 0) chunk = std::min(chunk, config.max_size_mb * store::kBytesPerMB / 10);
  return std::max<int64_t>(chunk, 0);
}

CleanupTask::CleanupTask(store::EventStore* store, const config::RecorderConfig& config,
                         int64_t tick_ms, int64_t size_check_ms, int64_t now_mono,
                         DisableFn disable, ArchiveFn archive)
    : store_(store),
      retention_(std::make_unique<store::Retention>(RetentionPolicyFor(config))),
      interval_ms_(int64_t{config.database_cleanup_interval_minutes} * 60'000),
      tick_ms_(tick_ms),
      size_check_ms_(size_check_ms),
      disable_(std::move(disable)),
      archive_(std::move(archive)),
      max_clean_tries_(config.max_clean_tries),
      // A first run soon after start: a recorder that was off for weeks
      // has old rows to drop.
      next_run_ms_(now_mono + kFirstRunMs),
      next_size_check_ms_(now_mono + size_check_ms) {}

Status CleanupTask::Run(const TaskClock& now) {
  std::optional<PendingConfig> pending;
  {
    std::lock_guard<std::mutex> lock(shared_mutex_);
    pending.swap(pending_config_);
  }
  if (pending) ApplyConfig(pending->config, pending->now_mono);
  if (store_ == nullptr) return Status::Ok();
  if (!retention_->in_run()) {
    if (run_soon_.exchange(false)) next_run_ms_ = std::min(next_run_ms_, now.mono_ms);
    if (now.mono_ms >= next_size_check_ms_) {
      next_size_check_ms_ = now.mono_ms + size_check_ms_;
      Result<store::StorageSize> size = store::MeasureStorage(store_->database());
      if (!size.ok()) {
        spdlog::warn("measuring the database for maxSizeMB failed: {}", size.status().message());
      } else if (retention_->OverSizeLimit(*size)) {
        next_run_ms_ = now.mono_ms;
      }
    }
    if (now.mono_ms < next_run_ms_) return Status::Ok();
    next_run_ms_ = now.mono_ms + interval_ms_;
  }
  Step(now.wall_ms);
  return Status::Ok();
}

bool CleanupTask::ContinueRun(int64_t now_wall) {
  if (store_ == nullptr || !retention_->in_run()) return false;
  Step(now_wall);
  return true;
}

void CleanupTask::Step(int64_t now_wall) {
  // Retention commits its own work: the store's open batch goes first.
  Status flushed = store_->Flush();
  if (!flushed.ok()) {
    // Tried again after every batch: one line a minute is enough.
    if (now_wall - postponed_logged_ms_ >= 60'000) {
      postponed_logged_ms_ = now_wall;
      spdlog::warn("database cleanup postponed: flushing the store failed: {}", flushed.message());
    }
    return;
  }
  Result<store::RetentionResult> step = retention_->Step(store_->database(), now_wall);
  store_->CheckpointAfterCommit();
  if (!step.ok()) {
    spdlog::warn("database cleanup failed (the next run starts over): {}", step.status().message());
    run_rows_.clear();
    UpdateView();
    return;
  }
  if (step->run_started) run_before_ = step->before;
  for (const auto& [table, rows] : step->rows_deleted) run_rows_[table] += rows;
  if (step->run_finished) {
    const std::string summary =
        CleanupSummary(run_rows_, retention_->policy().monitor_days, step->size_cleanup,
                       run_before_, step->after, step->checkpoint_blocked);
    if (!summary.empty()) spdlog::info("{}", summary);
    last_run_ = *step;
    last_run_->rows_deleted.clear();
    last_run_wall_ms_ = now_wall;
    run_rows_.clear();
    failed_tries_ = retention_->OverSizeLimit(step->after) ? failed_tries_ + 1 : 0;
    UpdateView();
    // MaxCleanTries 0 archives at the first failed run, like 1.
    if (archive_ && failed_tries_ >= std::max(max_clean_tries_, 1)) {
      const std::string reason = fmt::format(
          "{} cleanup run{} in a row left the database over maxSizeMB ({:.1f} MB > {} MB; "
          "MaxCleanTries {})",
          failed_tries_, failed_tries_ == 1 ? "" : "s",
          static_cast<double>(step->after.total_bytes()) / store::kBytesPerMB,
          retention_->policy().max_size_bytes / store::kBytesPerMB, max_clean_tries_);
      spdlog::warn("{}: archiving it and starting a fresh one", reason);
      failed_tries_ = 0;
      // Last: the callback replaces the store this task borrows.
      archive_(reason);
      return;
    }
  }
  if (step->run_started) UpdateView();
  if (step->disable) disable_(step->disable_reason);
}

void CleanupTask::SetStore(store::EventStore* store) {
  store_ = store;
  failed_tries_ = 0;
  run_rows_.clear();
  retention_ = std::make_unique<store::Retention>(retention_->policy());
  UpdateView();
}

void CleanupTask::Reconfigure(const config::RecorderConfig& config, int64_t now_mono) {
  // Taken by the next Run, on the thread that owns the store and the run.
  std::lock_guard<std::mutex> lock(shared_mutex_);
  pending_config_ = PendingConfig{config, now_mono};
}

void CleanupTask::ApplyConfig(const config::RecorderConfig& config, int64_t now_mono) {
  interval_ms_ = int64_t{config.database_cleanup_interval_minutes} * 60'000;
  max_clean_tries_ = config.max_clean_tries;
  if (retention_->in_run()) next_run_ms_ = now_mono;
  run_rows_.clear();
  retention_ = std::make_unique<store::Retention>(RetentionPolicyFor(config));
  UpdateView();
}

CleanupTask::View CleanupTask::view() const {
  std::lock_guard<std::mutex> lock(shared_mutex_);
  return view_;
}

void CleanupTask::UpdateView() {
  View now;
  now.running = retention_->in_run();
  if (last_run_) {
    now.last_run_wall_ms = last_run_wall_ms_;
    now.last_run_bytes_after = last_run_->after.total_bytes();
  }
  std::lock_guard<std::mutex> lock(shared_mutex_);
  view_ = now;
}

CpuGuardTask::CpuGuardTask(CpuGuardOptions options, int64_t period_ms, DisableFn disable,
                           Sampler sampler)
    : guard_(std::make_unique<CpuGuard>(options)),
      period_ms_(period_ms),
      disable_(std::move(disable)),
      sampler_(std::move(sampler)) {}

Status CpuGuardTask::Run(const TaskClock&) {
  Result<CpuSample> sample = sampler_();
  if (!sample.ok()) {
    spdlog::warn("sampling the recorder's CPU use failed: {}", sample.status().message());
    return Status::Ok();
  }
  CpuGuardReport report = guard_->Feed(*sample);
  if (report.window_closed) {
    last_window_ = report;
    if (report.violation)
      spdlog::warn(
          "CPU use {:.1f}% of the machine over {} s is above cpuThreshold {:.1f}% "
          "(violation {} of {})",
          report.usage * 100, report.window_ms / 1000, guard_->options().threshold * 100,
          report.violations, guard_->options().kill_after_violations);
  }
  if (report.kill) disable_(report.reason);
  return Status::Ok();
}

void CpuGuardTask::Reconfigure(const CpuGuardOptions& options) {
  if (!(guard_->options() == options)) guard_ = std::make_unique<CpuGuard>(options);
}

}  // namespace recorder::daemon
