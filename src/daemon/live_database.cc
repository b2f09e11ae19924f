#include "daemon/live_database.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/db_archive.h"

namespace recorder::daemon {
namespace {

std::string ArchivedWhere(const store::ArchiveResult& archived) {
  if (archived.archive.empty()) return "removed (DatabaseArchiveLimit 0 keeps no archive)";
  std::string where = "archived to " + archived.archive;
  if (!archived.erased.empty())
    where += fmt::format(" ({} older archive{} erased for DatabaseArchiveLimit)",
                         archived.erased.size(), archived.erased.size() == 1 ? "" : "s");
  return where;
}

}  // namespace

Result<std::unique_ptr<LiveDatabase>> LiveDatabase::Open(Options options, int archive_limit,
                                                         int64_t now_wall) {
  std::unique_ptr<LiveDatabase> db(new LiveDatabase(std::move(options)));
  Result<std::optional<store::DamageReport>> damage =
      store::ArchiveIfDamaged(db->options_.path, now_wall, archive_limit);
  if (!damage.ok()) return damage.status();
  std::string note;
  if (*damage) {
    const store::DamageReport& report = **damage;
    DatabaseEvent event{now_wall,
                        fmt::format("database damaged at start ({}): {}", report.problem,
                                    ArchivedWhere(report.archived)),
                        report.archived.archive};
    spdlog::error("{}: {}; recording into a fresh database", db->options_.path, event.what);
    note = "fresh database: " + event.what;
    db->last_event_ = std::move(event);
  }
  // Left uncompressed by a stop or a crash during compression. They are
  // evidence: at least one archive is kept.
  for (std::string& moved : store::ListUncompressedArchives(db->options_.path))
    db->compressor_.Add(std::move(moved), db->options_.path, std::max(archive_limit, 1));
  db->run_started_ms_ = now_wall;
  Status opened = db->OpenStore(note, {}, {}, now_wall);
  if (!opened.ok()) return opened;
  return db;
}

Status LiveDatabase::OpenStore(const std::string& note, store::RunStats stats,
                               const store::StoreCounters& carried, int64_t now_wall) {
  Result<std::unique_ptr<store::EventStore>> store =
      store::EventStore::Open(options_.path, options_.store);
  if (!store.ok()) return store.status();
  Result<int64_t> run = (*store)->BeginRun(options_.run_source, run_started_ms_, carried);
  if (!run.ok()) return run.status();
  stats.note = note;
  // The note is in the run's row from its first commit on.
  Status status = (*store)->RecordRunStats(stats, now_wall);
  if (status.ok()) status = (*store)->Flush();
  if (!status.ok()) return status;
  struct stat info {};
  if (stat(options_.path.c_str(), &info) == 0) {
    dev_ = info.st_dev;
    ino_ = info.st_ino;
  }
  store_ = std::move(*store);
  run_note_ = note;
  return Status::Ok();
}

Result<DatabaseEvent> LiveDatabase::Switch(SwitchKind kind, const std::string& reason,
                                           int archive_limit, store::RunStats final_stats,
                                           int64_t now_wall) {
  // The run goes on in the fresh file from what it counted so far.
  store::StoreCounters carried;
  if (store_) carried = store_->run_counters();
  store::RunStats go_on_stats = final_stats;
  if (store_) {
    final_stats.note = run_note_.empty()
                           ? "database switched: " + reason
                           : fmt::format("{}; database switched: {}", run_note_, reason);
    Status status = store_->RecordRunStats(final_stats, now_wall);
    if (status.ok()) status = store_->Flush();
    // The old file refuses its last commit: switching now would lose the
    // events of that batch, unless the file is gone anyway.
    if (!status.ok() && kind != SwitchKind::kReopen) return status;
    // Closing the last connection checkpoints the WAL into the file and
    // removes it: the archive is one file at rest.
    store_->StopBackgroundCheckpoint();
    if (kind == SwitchKind::kReopen) {
      // SQLite does not checkpoint or remove the WAL of a file that moved
      // away from its path, and the next file opened at the path would
      // take those frames for its own: they go into our file (through
      // its descriptor) now, and the -wal and -shm, ours, go below.
      Status emptied = store_->database()->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      if (!emptied.ok())
        spdlog::warn("{}: emptying the WAL of the file switched away from: {}", options_.path,
                     emptied.message());
    }
    store_.reset();
  }
  if (kind == SwitchKind::kReopen) {
    for (const char* suffix : {"-wal", "-shm"}) {
      const std::string stale = options_.path + suffix;
      if (unlink(stale.c_str()) != 0 && errno != ENOENT)
        spdlog::warn("{}: cannot remove: {}", stale, std::strerror(errno));
    }
  }
  DatabaseEvent event{now_wall, "", ""};
  switch (kind) {
    case SwitchKind::kArchive: {
      // Only the quick move aside is done here: the fresh file takes events
      // while the compressor works on the old one.
      Result<store::ArchiveResult> archived = store::ArchiveResult{};
      if (archive_limit > 0) {
        Result<std::string> moved = store::MoveAsideForArchive(options_.path, now_wall);
        if (moved.ok()) {
          archived->archive = *moved + ".gz";
          compressor_.Add(std::move(*moved), options_.path, archive_limit);
        } else {
          archived = moved.status();
        }
      } else {
        archived = store::ArchiveDatabase(options_.path, now_wall, 0);
      }
      if (!archived.ok()) {
        // Go on in the same file rather than stop recording; the caller
        // reports the failure (and may try again).
        Status reopened = OpenStore(run_note_, go_on_stats, carried, now_wall);
        if (!reopened.ok())
          spdlog::error("reopening {} after a failed archive: {}", options_.path,
                        reopened.message());
        return archived.status();
      }
      event.what = fmt::format("{}: {}", reason, ArchivedWhere(*archived));
      event.archive = archived->archive;
      break;
    }
    case SwitchKind::kDiscard: {
      Status removed = store::RemoveDatabase(options_.path);
      if (!removed.ok()) {
        Status reopened = OpenStore(run_note_, go_on_stats, carried, now_wall);
        if (!reopened.ok())
          spdlog::error("reopening {} after a failed removal: {}", options_.path,
                        reopened.message());
        return removed;
      }
      event.what = fmt::format("{}: removed without an archive", reason);
      break;
    }
    case SwitchKind::kReopen:
      event.what = reason;
      break;
  }
  ++switches_;
  last_event_ = event;
  Status opened = OpenStore("fresh database: " + event.what, go_on_stats, carried, now_wall);
  if (!opened.ok()) return opened;
  return event;
}

void LiveDatabase::LogArchives() {
  for (const store::ArchiveCompressor::Done& done : compressor_.TakeDone()) {
    spdlog::info("archive {} written{}", done.archive,
                 done.erased.empty()
                     ? ""
                     : fmt::format(" ({} older archive{} erased for DatabaseArchiveLimit)",
                                   done.erased.size(), done.erased.size() == 1 ? "" : "s"));
  }
  for (const std::string& error : compressor_.TakeErrors()) spdlog::error("archive: {}", error);
}

void LiveDatabase::FinishArchives() {
  compressor_.Wait();
  LogArchives();
}

bool LiveDatabase::FileIsOurs() const {
  struct stat info {};
  if (stat(options_.path.c_str(), &info) != 0) return errno != ENOENT && errno != ENOTDIR;
  return info.st_dev == dev_ && info.st_ino == ino_;
}

}  // namespace recorder::daemon
