// The live recorder's database file and what can happen to it while it
// records: found damaged at start, archived when cleanup cannot keep it
// under maxSizeMB (MaxCleanTries), recreated on request (`recorder
// recreate-db`), deleted or replaced under the recorder. Each time the
// recorder goes on in a fresh file, and both files' `runs` rows say why
// (runs.note).
//
// A switch happens between transactions: the store commits everything it
// was given, the file is closed (its WAL checkpointed), then moved aside
// or removed, and a fresh store takes the next events. Nothing handed to
// the store is lost; events still in the pipeline go to the fresh file.
// The caller re-points what borrowed the old store (store() changes). An
// archive is compressed on a thread of its own (store::ArchiveCompressor)
// while recording goes on; the destructor (or FinishArchives) waits for
// it. Archives a stop or crash left uncompressed are compressed after
// Open.
//
// Not thread-safe: the event loop's thread owns it. Time comes in as an
// argument.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "store/archive_compressor.h"
#include "store/event_store.h"
#include "store/run_log.h"
#include "util/status.h"

namespace recorder::daemon {

// Something that happened to the database file, for the log, status and
// runs.note.
struct DatabaseEvent {
  int64_t wall_ms = 0;
  std::string what;     // one line: why and what was done
  std::string archive;  // the archive written; empty when none
};

class LiveDatabase {
 public:
  struct Options {
    std::string path;
    store::EventStoreOptions store;
    std::string run_source;  // runs.source of every run begun here
  };

  // Checks an existing file first (store::ArchiveIfDamaged): a damaged one
  // is archived and a fresh one created, which the run begun here notes.
  // `archive_limit` is DatabaseArchiveLimit.
  static Result<std::unique_ptr<LiveDatabase>> Open(Options options, int archive_limit,
                                                    int64_t now_wall);

  enum class SwitchKind {
    kArchive,  // archive the file (DatabaseArchiveLimit), then start afresh
    kDiscard,  // remove the file without an archive
    kReopen,   // the file is already gone or replaced: open what the path holds now
  };
  // Ends the current run's row in the old file with `final_stats` (its
  // note says the file was switched and why), commits, closes the file,
  // archives or removes it, opens a fresh store and goes on with the same
  // run there: its row in the fresh file keeps the run's start time and
  // starts from its counts so far (`final_stats` and what the old store
  // counted), and its note says why. With an error the old store may be
  // gone: store() is null until a later Switch(kReopen) succeeds.
  Result<DatabaseEvent> Switch(SwitchKind kind, const std::string& reason, int archive_limit,
                               store::RunStats final_stats, int64_t now_wall);

  // Whether the path still names the file this store writes: false when it
  // was deleted, renamed away or replaced by another file.
  bool FileIsOurs() const;

  // Logs the archives the background compression finished or failed.
  void LogArchives();
  // Waits for the archives being compressed, then logs them.
  void FinishArchives();

  store::EventStore* store() const { return store_.get(); }
  const std::string& path() const { return options_.path; }
  // The current run's runs.note; empty when nothing happened to the file.
  const std::string& run_note() const { return run_note_; }
  const std::optional<DatabaseEvent>& last_event() const { return last_event_; }
  int switches() const { return switches_; }

 private:
  explicit LiveDatabase(Options options) : options_(std::move(options)) {}
  // Opens the store at the path and begins (or, with `carried`, goes on
  // with) the run, its row noting `note` and holding `stats`.
  Status OpenStore(const std::string& note, store::RunStats stats,
                   const store::StoreCounters& carried, int64_t now_wall);

  Options options_;
  store::ArchiveCompressor compressor_;
  std::unique_ptr<store::EventStore> store_;
  dev_t dev_ = 0;  // the open file's identity
  ino_t ino_ = 0;
  int64_t run_started_ms_ = 0;  // wall: the run's start, whatever file it is in now
  std::string run_note_;
  std::optional<DatabaseEvent> last_event_;
  int switches_ = 0;
};

}  // namespace recorder::daemon
