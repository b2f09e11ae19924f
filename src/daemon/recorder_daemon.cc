#include "daemon/recorder_daemon.h"

#include <errno.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <vector>

#include "config/filter_locations.h"
#include "daemon/daemon.h"
#include "daemon/daemon_status.h"

namespace recorder::daemon {

using config::AuditSource;

namespace {

// After the rules are gone, records already queued keep arriving briefly.
constexpr int64_t kDrainMs = 300;

// The filter files `config` names; warnings are logged. A bad file is an
// error naming the file, the rule and why (as `recorder config check`).
Result<filter::LoadedFilters> LoadLiveFilters(const config::RecorderConfig& config) {
  Result<filter::LoadedFilters> loaded = filter::LoadFilters(config::FilterLocationsOf(config));
  if (!loaded.ok()) return loaded.status();
  for (const std::string& warning : loaded->warnings) spdlog::warn("filters: {}", warning);
  return loaded;
}

std::string FilesText(const std::vector<std::string>& files) {
  if (files.empty()) return "no filter file: every event is recorded";
  std::string text;
  for (const std::string& file : files) text += (text.empty() ? "" : ", ") + file;
  return text;
}

}  // namespace

Daemon::~Daemon() {
  Status shut = Shutdown();
  if (!shut.ok()) spdlog::error("shutting down: {}", shut.message());
  if (signals_out_ != nullptr && signals_out_ != stdout) std::fclose(signals_out_);
}

Status Daemon::Start() {
  started_wall_ = WallMs();
  const std::optional<std::string> disabled = ReadDisabledReason(config_.state_dir);
  if (disabled && !options_.force) {
    return Status::Errorf(
        "recording is disabled ({}); fix the cause, then run 'recorder start --force'", *disabled);
  }
  // Stamped before the filters are read: a change made meanwhile is a
  // change the watch sees (recorder*.json was read by the caller, just
  // before).
  if (!options_.config_dir.empty()) config_watch_.Rebase(ConfigStamps());
  // Before anything is touched: a recorder that would not record what
  // the filters say does not start.
  Result<filter::LoadedFilters> filters = LoadLiveFilters(config_);
  if (!filters.ok())
    return Status::Errorf("filters: {} ('recorder config check' checks the files)",
                          filters.status().message());
  filters_ = std::move(filters).value();
  spdlog::info("filters: {}", FilesText(filters_.files));
  LoadLiveSignals(config_, "start");
  signals_ = std::make_unique<SignalChannel>();
  if (signals_->fd() < 0) return Status::Errorf("signalfd failed: {}", std::strerror(errno));

  Result<std::unique_ptr<ControlServer>> control = ControlServer::Listen(config_.control_socket);
  if (!control.ok()) return control.status();
  control_ = std::move(*control);
  if (disabled) {
    // Forced, and no other recorder runs: recording is enabled again, as
    // after `start --force` (status no longer says disabled).
    Status cleared = ClearDisabled(config_.state_dir);
    if (!cleared.ok()) return cleared;
    spdlog::info("re-enabled (was disabled: {})", *disabled);
  }
  Status pid_file = WritePidFile(config_.pid_file);
  if (!pid_file.ok()) return pid_file;
  wrote_pid_file_ = true;

  // From here on the run has a row in `runs`: a failure says why in it.
  Status sinks = OpenSinks();
  if (!sinks.ok()) return EndOnError(RunEndKind::kStartFailed, std::move(sinks));
  // Stopped while waiting for the database: nothing was started.
  if (outcome_.ended()) return Status::Ok();
  Status source = OpenSource();
  if (!source.ok()) return EndOnError(RunEndKind::kStartFailed, std::move(source));
  // Rules last: from here on the kernel produces records, and we read them.
  rules_ = std::make_unique<RuleKeeper>(config_, filters_.filters);
  Status rules = rules_->Install();
  if (!rules.ok()) return EndOnError(RunEndKind::kStartFailed, std::move(rules));
  // A monitor that cannot start is reported in status; recording goes on.
  Status images = enrichment_->ConfigureImageMonitor(config_.monitor_image_load,
                                                     recording_sink_.get(), WallMs());
  if (!images.ok()) return EndOnError(RunEndKind::kStartFailed, std::move(images));
  dns_ = std::make_unique<LiveDns>();
  Status dns =
      dns_->Configure(config_.monitor_dns, config_.dns_capture, recording_sink_.get(), WallMs());
  if (!dns.ok()) return EndOnError(RunEndKind::kStartFailed, std::move(dns));

  AddTasks(MonotonicMs());
  spdlog::info("recording from {} (pid {}){}{}", config::AuditSourceName(source_->kind()), own_pid_,
               options_.db_path.empty() ? "" : " into ", options_.db_path);
  return Status::Ok();
}

Status Daemon::OpenSinks() {
  std::vector<EventSink*> sinks;
  if (!options_.db_path.empty()) {
    Status opened = OpenDatabase();
    if (!opened.ok() || outcome_.ended()) return opened;
    disk_gate_ = std::make_unique<DiskGateSink>(store_);
    disk_gate_->set_db_path(options_.db_path);
    disk_guard_.set_max_size_bytes(config_.max_size_mb * store::kBytesPerMB);
    CheckDiskSpace(/*at_start=*/true);
    sinks.push_back(disk_gate_.get());
  }
  if (options_.stdout_json) {
    json_sink_ = std::make_unique<JsonLinesSink>(stdout);
  } else if (!options_.json_out.empty()) {
    Result<std::unique_ptr<JsonLinesSink>> file = JsonLinesSink::OpenFile(options_.json_out);
    if (!file.ok()) return file.status();
    json_sink_ = std::move(*file);
  }
  if (json_sink_) sinks.push_back(json_sink_.get());
  if (options_.signals_out == "-") {
    signals_out_ = stdout;
  } else if (!options_.signals_out.empty()) {
    signals_out_ = std::fopen(options_.signals_out.c_str(), "ae");
    if (signals_out_ == nullptr)
      return Status::FromErrno(errno, "--signals-out " + options_.signals_out);
  }
  if (sinks.empty())
    return Status::Error("nowhere to record: give a database (--db) or --stdout-json");
  tee_ = std::make_unique<TeeSink>(sinks);
  EventSink* written = tee_.get();
  if (store_) {
    // The cleanup works on the writer thread, between batches; what it
    // asks of the loop (archive, disable) waits in a mailbox.
    cleanup_ = std::make_unique<CleanupTask>(
        store_, config_, kTickMs, options_.limits_check_interval_ms, MonotonicMs(),
        [this](const std::string& reason) {
          std::lock_guard<std::mutex> lock(cleanup_asks_mutex_);
          disable_asked_ = reason;
        },
        [this](const std::string& reason) {
          std::lock_guard<std::mutex> lock(cleanup_asks_mutex_);
          archive_asked_ = reason;
        });
    pacer_ = std::make_unique<CleanupPacer>(tee_.get(), cleanup_.get(), WallMs);
    written = pacer_.get();
  }
  // SQLite on its own thread: a slow disk or a locked database never
  // stops the reading of the kernel's records. PendingEventCap bounds
  // what waits for it; beyond, events are dropped and counted by kind.
  ThreadedSinkOptions writer_options;
  writer_options.max_pending_events = static_cast<size_t>(config_.pending_event_cap);
  writer_ = std::make_unique<ThreadedSink>(written, writer_options);
  // Filtering after enrichment, before the writer: a process exclusion
  // reaches descendants through the process table, and what is left out
  // never waits at PendingEventCap.
  enrichment_ = std::make_unique<LiveEnrichment>(
      config_.state_dir, config_.process_expiration_seconds, writer_.get(), WallMs(),
      filters_.filters, config_.disable_signals ? nullptr : signal_matcher_, signals_out_);
  // Before the first event: the writer is idle, the store still ours.
  if (store_) enrichment_->ResumePendingHashes(store_);
  StoreSignalRules(WallMs());
  recording_sink_ = std::make_unique<RecordingSink>(enrichment_->sink(), own_pid_);
  PipelineOptions pipeline_options;
  // Live: small batches, so events reach the store within a tick.
  pipeline_options.sink_batch = 256;
  // The enrich stage looks their addresses up (enrich/socket_ports.h).
  pipeline_options.normalizer.keep_unaddressed_accepts = true;
  pipeline_ = std::make_unique<Pipeline>(pipeline_options, nullptr, recording_sink_.get());
  return Status::Ok();
}

Status Daemon::OpenSource() {
  Result<std::unique_ptr<LiveSource>> source =
      LiveSource::Open(ResolveSource(options_.source), config_, options_.stdin_fd);
  if (!source.ok()) return source.status();
  source_ = std::move(*source);
  // The plugin's pipe is small and auditd waits on it: read it whenever
  // it is readable. Netlink sockets get a pacer sized to their buffer.
  if (source_->is_netlink())
    read_pacer_ =
        std::make_unique<ReadPacer>(kReadPaceMs, MaxPacedRecords(source_->receive_buffer_bytes()));
  return Status::Ok();
}

Status Daemon::EndOnError(RunEndKind kind, Status status) {
  if (!status.ok()) EndRun({kind, status.message()});
  return status;
}

Status Daemon::ReadSource(int64_t now_wall) {
  recording_sink_->set_now(now_wall);
  LiveSource::ReadOutcome read = source_->Read(pipeline_.get(), now_wall);
  if (read_pacer_) read_pacer_->AfterRead(MonotonicMs(), read.drained, read.records);
  if (!read.write_error.ok())
    return EndOnError(RunEndKind::kWriteFailed, std::move(read.write_error));
  if (!read.source_error.ok())
    return EndOnError(RunEndKind::kSourceFailed, std::move(read.source_error));
  if (read.end_of_input) EndRun({RunEndKind::kEndOfInput, ""});
  return Status::Ok();
}

std::vector<config::FileStamp> Daemon::ConfigStamps() const {
  // The configured filter and watchlist paths of the configuration in
  // force: a reload that moves them is followed by one more reload, which
  // then watches the new paths.
  std::vector<config::FileStamp> stamps =
      config::StampConfigFiles(options_.config_dir, config::WatchedFilterPaths(config_));
  // The rules of signalsLocation: an edited rule takes effect without
  // SIGHUP, as an edited filter file does (the reload reads them again).
  config::AppendRuleFileStamps(config_.signals_location, &stamps);
  return stamps;
}

Status Daemon::Reload(int64_t now_mono, int64_t now_wall, std::string_view why) {
  if (options_.config_dir.empty()) {
    spdlog::info("{}: no configuration directory to reload", why);
    return Status::Ok();
  }
  // Before reading: an edit made while the files are read is seen by the
  // next sample of the watch.
  config_watch_.Rebase(ConfigStamps());
  ++config_reloads_;
  Result<config::LoadedConfig> loaded = config::LoadConfig(options_.config_dir);
  if (!loaded.ok()) {
    ++config_reload_failures_;
    config_reload_error_ = loaded.status().message();
    spdlog::error("{}: configuration not reloaded, the previous one stays in force: {}", why,
                  config_reload_error_);
    return Status::Ok();
  }
  config_reload_error_.clear();
  for (const std::string& warning : loaded->warnings) spdlog::warn("config: {}", warning);
  config::RecorderConfig next = loaded->config;
  // What the process is bound to stays: paths of the socket, pid file,
  // state and the rule key (the installed rules carry it).
  next.control_socket = config_.control_socket;
  next.pid_file = config_.pid_file;
  next.state_dir = config_.state_dir;
  next.rule_key = config_.rule_key;
  next.recorder_exe = config_.recorder_exe;
  std::shared_ptr<const filter::CompiledFilters> filters = ReloadFilters(next, why);
  rules_->Replace(next, filters);
  enrichment_->ReplaceFilters(filters);
  LoadLiveSignals(next, why);
  enrichment_->ReplaceSignals(next.disable_signals ? nullptr : signal_matcher_);
  LogCapDrops();  // under the cap they happened at
  config_ = next;
  // The store is the writer's: the rules and the cap on matches change
  // between two of its batches.
  if (store_) {
    Status posted = OnWriter([this, rows = signal_rows_, limit = config_.record_signal_matches,
                              record = config_.record_signal_definitions, now_wall] {
      store_->set_signal_match_limit(limit);
      if (!record) return Status::Ok();
      Status stored = store_->StoreSignalRules(rows, now_wall);
      if (!stored.ok()) spdlog::warn("signal rules not stored: {}", stored.message());
      return Status::Ok();
    });
    if (!posted.ok()) spdlog::warn("signal rules not stored: {}", posted.message());
  }
  writer_->set_max_pending_events(static_cast<size_t>(config_.pending_event_cap));
  if (cleanup_) cleanup_->Reconfigure(config_, now_mono);
  disk_guard_.set_max_size_bytes(config_.max_size_mb * store::kBytesPerMB);
  storage_cap_ = StorageCapFor();
  if (disk_gate_) disk_gate_->set_pause_bytes(storage_cap_.pause_bytes());
  cpu_->Reconfigure(CpuOptions());
  // Checks the current state (a start that failed is retried).
  Status images = enrichment_->ConfigureImageMonitor(config_.monitor_image_load,
                                                     recording_sink_.get(), now_wall);
  Status dns = dns_ ? dns_->Configure(config_.monitor_dns, config_.dns_capture,
                                      recording_sink_.get(), now_wall)
                    : Status::Ok();
  spdlog::info("{}: configuration reloaded from {}", why, options_.config_dir);
  return images.ok() ? dns : images;
}

void Daemon::StoreSignalRules(int64_t now_wall) {
  if (!store_ || !config_.record_signal_definitions) return;
  Status stored = store_->StoreSignalRules(signal_rows_, now_wall);
  if (!stored.ok()) spdlog::warn("signal rules not stored: {}", stored.message());
}

void Daemon::LoadLiveSignals(const config::RecorderConfig& config, std::string_view why) {
  Result<LoadedSignals> loaded =
      LoadSignals(config.signals_location, !config.disable_signals_trie, /*missing_ok=*/true);
  if (!loaded.ok()) {
    // Recording goes on with the rules in force (none at the start).
    spdlog::error("{}: signals not loaded: {}", why, loaded.status().message());
    return;
  }
  for (const std::string& problem : loaded->problems) spdlog::warn("signal rule {}", problem);
  spdlog::info("{}: signals: {} rule(s) from {}, {} not loaded{}", why, loaded->loaded,
               config.signals_location, loaded->problems.size(),
               config.disable_signals ? " (DisableSignals: none is matched)" : "");
  signal_matcher_ = loaded->matcher;
  signal_rows_ = std::move(loaded->rows);
  signals_not_loaded_ = loaded->problems.size();
}

std::shared_ptr<const filter::CompiledFilters> Daemon::ReloadFilters(
    const config::RecorderConfig& next, std::string_view why) {
  Result<filter::LoadedFilters> loaded = LoadLiveFilters(next);
  if (!loaded.ok()) {
    ++filter_reload_failures_;
    filter_reload_error_ = loaded.status().message();
    spdlog::error("{}: filters not reloaded, the previous ones stay in force: {}", why,
                  filter_reload_error_);
    return filters_.filters;
  }
  filter_reload_error_.clear();
  filters_ = std::move(loaded).value();
  spdlog::info("{}: filters: {}", why, FilesText(filters_.files));
  return filters_.filters;
}

Status Daemon::Loop() {
  while (!outcome_.ended()) {
    int64_t now_mono = MonotonicMs();
    // A paced source is left out of the poll (a negative fd is ignored)
    // and read when its time comes.
    const bool paced = read_pacer_ && read_pacer_->armed();
    int64_t wake_ms = tasks_.next_due_ms();
    if (paced) wake_ms = std::min(wake_ms, read_pacer_->next_read_ms());
    const int timeout = static_cast<int>(std::clamp<int64_t>(wake_ms - now_mono, 0, kTickMs));
    pollfd fds[3] = {{signals_->fd(), POLLIN, 0},
                     {control_->fd(), POLLIN, 0},
                     {paced ? -1 : source_->fd(), POLLIN, 0}};
    int ready = poll(fds, 3, timeout);
    if (ready < 0 && errno != EINTR)
      return EndOnError(RunEndKind::kInternalError,
                        Status::Errorf("poll failed: {}", std::strerror(errno)));
    const int64_t now_wall = WallMs();
    now_mono = MonotonicMs();
    const int64_t busy_start_us = MonotonicUs();
    if (ready > 0 && (fds[0].revents & POLLIN)) {
      while (int signal_number = signals_->Next()) {
        if (signal_number == SIGHUP) {
          Status reloaded = Reload(now_mono, now_wall, "SIGHUP");
          if (!reloaded.ok()) return EndOnError(RunEndKind::kWriteFailed, std::move(reloaded));
        } else {
          EndRun({RunEndKind::kSignal, signal_number == SIGINT ? "SIGINT" : "SIGTERM"});
        }
      }
    }
    if ((ready > 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) ||
        (paced && read_pacer_->ReadDue(now_mono))) {
      Status read = ReadSource(now_wall);
      if (!read.ok()) return read;
    }
    const int64_t read_done_us = MonotonicUs();
    if (ready > 0 && (fds[1].revents & POLLIN)) {
      control_->ServePending([this](std::string_view request) { return HandleControl(request); });
    }
    const int64_t tasks_start_us = MonotonicUs();
    Status ran = tasks_.RunDue({now_mono, now_wall});
    if (!ran.ok()) return ran;
    NoteBusy(busy_start_us, read_done_us, tasks_start_us, MonotonicUs());
  }
  // A stop by the limits is not a clean stop: `recorder run` exits non-zero.
  if (outcome_.stop()->kind == RunEndKind::kDisabled)
    return Status::Errorf("recording disabled: {}", outcome_.stop()->detail);
  return Status::Ok();
}

Status Daemon::Shutdown() {
  if (shut_down_) return Status::Ok();
  shut_down_ = true;
  if (live_line_) live_line_->Finish();
  Status result = Status::Ok();
  auto keep = [&result](Status status) {
    if (result.ok() && !status.ok()) result = std::move(status);
  };
  if (rules_) keep(rules_->Remove());
  // Records of events that happened before the rules went are still
  // queued in the kernel or the socket: read them for a moment.
  if (pipeline_ && source_ && source_->is_netlink()) {
    const int64_t until = MonotonicMs() + kDrainMs;
    while (MonotonicMs() < until) {
      pollfd fd{source_->fd(), POLLIN, 0};
      if (poll(&fd, 1, 50) <= 0) continue;
      Status read = ReadSource(WallMs());
      if (!read.ok()) {
        spdlog::error("reading the last records failed: {}", read.message());
        keep(std::move(read));
        break;
      }
    }
  }
  if (pipeline_) {
    recording_sink_->set_now(WallMs());
    Status finished = pipeline_->Finish();
    if (!finished.ok()) spdlog::error("flushing the last events failed: {}", finished.message());
    keep(EndOnError(RunEndKind::kWriteFailed, std::move(finished)));
  }
  if (enrichment_)
    keep(EndOnError(RunEndKind::kWriteFailed,
                    enrichment_->FinishEvents(recording_sink_.get(), WallMs())));
  // Detaches the DNS programs; the answered and unanswered queries go in.
  if (dns_)
    keep(EndOnError(RunEndKind::kWriteFailed, dns_->Finish(recording_sink_.get(), WallMs())));
  // What the writer holds is written; the store is the loop's again.
  if (writer_) {
    Status flushed = writer_->Flush();
    Status stopped = StopWriter();
    keep(EndOnError(RunEndKind::kWriteFailed, flushed.ok() ? std::move(stopped) : flushed));
    LogCapDrops();
  }
  if (enrichment_) {
    const filter::FilterStats filtered = enrichment_->filter_stats();
    if (filtered.total_dropped() > 0)
      spdlog::info("the filters left out {} events ({} by a process exclusion)",
                   filtered.total_dropped(), filtered.dropped_by_process);
  }
  if (enrichment_) enrichment_->FinishHashes(store_);
  if (source_) source_->RefreshStatus();
  WriteRunStats(WallMs());
  if (store_) {
    keep(store_->Flush());
    // Before the store's connection closes: that close, the last one,
    // then checkpoints what is left and removes the WAL.
    store_->StopBackgroundCheckpoint();
  }
  // An archive still being compressed is finished, not left half done.
  if (db_) db_->FinishArchives();
  if (source_) keep(source_->Close());
  control_.reset();
  if (wrote_pid_file_) RemovePidFile(config_.pid_file);
  signals_.reset();
  if (outcome_.ended() && outcome_.stop()->kind != RunEndKind::kStartFailed)
    spdlog::info("stopped ({})", outcome_.StopReason());
  return result;
}

namespace {

Status RunDaemonOrThrow(const DaemonOptions& options) {
  Daemon daemon(options);
  Status result = Status::Ok();
  try {
    result = daemon.Start();
    if (result.ok()) {
      result = daemon.Loop();
      if (!result.ok()) spdlog::error("recording stopped: {}", result.message());
    }
  } catch (const std::exception& e) {
    daemon.RecordInternalError(e.what());
    result = Status::Errorf("recording stopped by an internal error: {}", e.what());
  } catch (...) {
    daemon.RecordInternalError("unknown exception");
    result = Status::Error("recording stopped by an unknown internal error");
  }
  Status shut = daemon.Shutdown();
  if (result.ok()) return shut;
  // The first error is the answer; a second one is still worth knowing.
  if (!shut.ok()) spdlog::error("and shutting down: {}", shut.message());
  return result;
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
    // Thrown by the shutdown itself: the Daemon's destructor, and those of
    // the rules and the source, put back what they can while unwinding.
    return Status::Errorf("recording stopped by an internal error: {}", e.what());
  } catch (...) {
    return Status::Error("recording stopped by an unknown internal error");
  }
}

}  // namespace recorder::daemon
