#include <errno.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "daemon/daemon.h"
#include "daemon/database_retry.h"
#include "daemon/limit_tasks.h"

// The Daemon's database file: opening it (the damage check, the wait of
// DatabaseErrorWaitMinutes), switching to a fresh file, `recorder
// recreate-db`; see daemon.h and live_database.h.
namespace recorder::daemon {
namespace {

// Every request but "stop" and "ping" is answered this way while the
// recorder waits for its database: it does not record yet.
std::string WaitingAnswer(const std::string& why, int64_t retry_in_ms) {
  return nlohmann::json{{"ok", false},
                        {"state", "waiting for the database"},
                        {"error", why},
                        {"retry_in_ms", retry_in_ms}}
      .dump();
}

}  // namespace

Status Daemon::OpenDatabase() {
  LiveDatabase::Options options;
  options.path = options_.db_path;
  options.store.batch_write_delay_ms = config_.batch_write_delay_ms;
  options.store.process_expiration_ms = config_.process_expiration_seconds * 1000;
  options.store.signal_match_limit = config_.record_signal_matches;
  // The writer thread commits: keep SQLite's checkpoints (page write-back
  // and fsync) out of it, on the store's checkpoint thread.
  options.store.background_checkpoint = true;
  options.store.chunk_size_bytes = ChunkSizeBytesFor(config_);
  // The -wal counts toward maxSizeMB: with a small limit it must stay a
  // small part of it (a tenth, in 4 KiB pages), not the default ~16 MB.
  if (config_.max_size_mb > 0) {
    const int64_t frames = std::clamp<int64_t>(config_.max_size_mb * store::kBytesPerMB / 10 / 4096,
                                               64, options.store.wal_hard_limit_frames);
    options.store.wal_hard_limit_frames = frames;
    options.store.checkpointer.wal_frames_threshold =
        std::min(options.store.checkpointer.wal_frames_threshold, frames / 2);
    // ...and a spike (a cleanup run's deletions) does not stay on disk.
    options.store.wal_file_limit_bytes = frames * 4096;
  }
  if (options.store.chunk_size_bytes < config_.sqlite_chunk_size_mb * store::kBytesPerMB)
    spdlog::info(
        "SQLiteChunkSizeMB {} is more than a tenth of maxSizeMB {}: the file grows by {} KiB",
        config_.sqlite_chunk_size_mb, config_.max_size_mb, options.store.chunk_size_bytes / 1024);
  options.run_source =
      fmt::format("live:{}", config::AuditSourceName(ResolveSource(options_.source)));
  DatabaseRetry retry(config_.database_error_wait_minutes);
  for (;;) {
    Result<std::unique_ptr<LiveDatabase>> db =
        LiveDatabase::Open(options, config_.database_archive_limit, started_wall_);
    if (db.ok()) {
      db_ = std::move(*db);
      store_ = db_->store();
      return Status::Ok();
    }
    if (!DatabaseRetry::Retryable(db.status())) return db.status();
    retry.Failed(MonotonicMs());
    spdlog::error("{}; trying again in {} s (DatabaseErrorWaitMinutes)", db.status().message(),
                  retry.wait_ms() / 1000);
    // Wait without spinning: until the retry is due, a signal or `stop`.
    while (!retry.Due(MonotonicMs()) && !outcome_.ended()) {
      const int64_t left = retry.next_attempt_ms() - MonotonicMs();
      pollfd fds[2] = {{signals_->fd(), POLLIN, 0}, {control_->fd(), POLLIN, 0}};
      const int ready = poll(fds, 2, static_cast<int>(std::clamp<int64_t>(left, 0, 60'000)));
      if (ready < 0 && errno != EINTR)
        return Status::Errorf("poll failed: {}", std::strerror(errno));
      if (ready <= 0) continue;
      if (fds[0].revents & POLLIN) {
        while (int signal_number = signals_->Next()) {
          if (signal_number != SIGHUP)
            EndRun({RunEndKind::kSignal, signal_number == SIGINT ? "SIGINT" : "SIGTERM"});
        }
      }
      if (fds[1].revents & POLLIN) {
        control_->ServePending([&](std::string_view request) -> std::string {
          if (request == "ping") return R"({"ok":true})";
          if (request == "stop") {
            EndRun({RunEndKind::kStopRequest, ""});
            return R"({"ok":true,"stopping":true})";
          }
          return WaitingAnswer(db.status().message(), retry.next_attempt_ms() - MonotonicMs());
        });
      }
    }
    if (outcome_.ended()) return Status::Ok();
  }
}

Result<DatabaseEvent> Daemon::SwitchDatabase(LiveDatabase::SwitchKind kind,
                                             const std::string& reason, int archive_limit,
                                             int64_t now_wall) {
  // The store is the writer thread's while it holds events or tasks: let
  // it finish them. The loop is the only producer, so the writer stays
  // idle until this returns.
  if (writer_ && !writer_stopped_) {
    Status flushed = writer_->Flush();
    if (!flushed.ok()) {
      EndRun({RunEndKind::kWriteFailed, flushed.message()});
      return flushed;
    }
  }
  store::EventStore* old = store_;
  Result<DatabaseEvent> event =
      db_->Switch(kind, reason, archive_limit, LiveRunStats(RunCounts(), outcome_), now_wall);
  store_ = db_->store();
  if (store_ != old) {
    disk_gate_->set_store(store_);
    if (!store_) tee_->Replace(disk_gate_.get(), nullptr);
    if (cleanup_) cleanup_->SetStore(store_);
  }
  if (!event.ok()) {
    spdlog::error("{}: {} failed: {}", db_->path(), reason, event.status().message());
    // No store: events would go nowhere. Stop and say why.
    if (!store_) EndRun({RunEndKind::kWriteFailed, event.status().message()});
    return event.status();
  }
  spdlog::warn("{}: {}; recording into a fresh database", db_->path(), event->what);
  // The fresh file has no rules yet; the writer is idle (flushed above).
  if (store_ != old) StoreSignalRules(now_wall);
  return event;
}

void Daemon::CheckDatabaseFile(int64_t now_wall) {
  if (!db_ || db_->FileIsOurs()) return;
  // A failed switch is logged and, with no store left, ends the run
  // (SwitchDatabase); there is nothing more to do here.
  Result<DatabaseEvent> switched =
      SwitchDatabase(LiveDatabase::SwitchKind::kReopen,
                     "the database file was deleted or replaced under the recorder", 0, now_wall);
  if (!switched.ok()) return;
}

std::string Daemon::RecreateDatabase(bool discard) {
  if (!db_)
    return nlohmann::json{{"ok", false}, {"error", "the recorder writes no database (--no-db)"}}
        .dump();
  // Asked for by a person: even with DatabaseArchiveLimit 0 the archive
  // this request makes is kept (older ones go down to the limit).
  Result<DatabaseEvent> event = SwitchDatabase(
      discard ? LiveDatabase::SwitchKind::kDiscard : LiveDatabase::SwitchKind::kArchive,
      "recorder recreate-db", std::max(config_.database_archive_limit, 1), WallMs());
  if (!event.ok()) return nlohmann::json{{"ok", false}, {"error", event.status().message()}}.dump();
  return nlohmann::json{
      {"ok", true}, {"db", db_->path()}, {"archive", event->archive}, {"what", event->what}}
      .dump();
}

}  // namespace recorder::daemon
