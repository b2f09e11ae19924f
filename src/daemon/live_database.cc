#include "daemon/live_database.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>

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
  Status opened = db->OpenStore(note, now_wall);
  if (!opened.ok()) return opened;
  return db;
}

Status LiveDatabase::OpenStore(const std::string& note, int64_t now_wall) {
  Result<std::unique_ptr<store::EventStore>> store =
      store::EventStore::Open(options_.path, options_.store);
  if (!store.ok()) return store.status();
  Result<int64_t> run = (*store)->BeginRun(options_.run_source, now_wall);
  if (!run.ok()) return run.status();
  store::RunStats stats;
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
    store_.reset();
  }
  DatabaseEvent event{now_wall, "", ""};
  switch (kind) {
    case SwitchKind::kArchive: {
      Result<store::ArchiveResult> archived =
          store::ArchiveDatabase(options_.path, now_wall, archive_limit);
      if (!archived.ok()) {
        // Go on in the same file rather than stop recording; the caller
        // reports the failure (and may try again).
        Status reopened = OpenStore(run_note_, now_wall);
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
        Status reopened = OpenStore(run_note_, now_wall);
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
  Status opened = OpenStore("fresh database: " + event.what, now_wall);
  if (!opened.ok()) return opened;
  return event;
}

bool LiveDatabase::FileIsOurs() const {
  struct stat info {};
  if (stat(options_.path.c_str(), &info) != 0) return errno != ENOENT && errno != ENOTDIR;
  return info.st_dev == dev_ && info.st_ino == ino_;
}

}  // namespace recorder::daemon
