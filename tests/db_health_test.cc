// The live database file's health, on real files: a damaged monitor.db
// found at start is archived and a fresh one started (store, LiveDatabase,
// and the daemon's start); a switch to a fresh file between transactions
// keeps every event (in the archive or the fresh file); MaxCleanTries
// failed cleanups archive the database and DatabaseArchiveLimit keeps the
// newest archives, driven by an injected clock; DatabaseErrorWaitMinutes
// spaces the attempts to open a database that cannot be created.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/control_channel.h"
#include "daemon/daemon_status.h"
#include "daemon/database_retry.h"
#include "daemon/limit_tasks.h"
#include "daemon/live_database.h"
#include "daemon/recorder_daemon.h"
#include "daemon/status_report.h"
#include "daemon_support.h"
#include "db_files.h"
#include "db_query.h"
#include "run_command.h"
#include "store/db_archive.h"
#include "store/event_store.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace recorder::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr int64_t kNoon = 1764936000000;  // 2025-12-05T12:00:00Z

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// File events of one process, each naming a path of its own (`tag` keeps
// the paths of two calls apart).
void WriteFileEvents(store::EventStore* store, int count, const std::string& tag, int path_len = 0,
                     uint64_t first_serial = 1) {
  EventBatch batch;
  for (int i = 0; i < count; ++i) {
    TypedEvent e;
    e.header.time_ms = kNoon + i;
    e.header.serial = first_serial + static_cast<uint64_t>(i);
    e.subject.pid = 100;
    e.subject.ppid = 1;
    e.subject.exe = "/usr/bin/writer";
    e.subject.comm = "writer";
    FileEvent f;
    f.operation = FileOperation::kWrite;
    f.path = "/tmp/" + tag + "/" + std::to_string(i) + "-" + std::string(path_len, 'p');
    e.body = f;
    batch.push_back(std::move(e));
  }
  Status added = store->Add(&batch, 0);
  ASSERT_TRUE(added.ok()) << added.message();
}

LiveDatabase::Options LiveOptions(const std::string& path) {
  LiveDatabase::Options options;
  options.path = path;
  options.run_source = "live:test";
  return options;
}

// ---------------------------------------------------------------------
// The damage check at start

TEST(ArchiveIfDamaged, LeavesMissingForeignAndSoundFilesAlone) {
  TempDir dir;
  auto missing = store::ArchiveIfDamaged(dir.File("none.db"), kNoon, 3);
  ASSERT_TRUE(missing.ok()) << missing.status().message();
  EXPECT_FALSE(missing->has_value());

  // Not an SQLite file at all: the open refuses it later, it is never
  // archived (or, with limit 0, removed) in its place.
  const std::string text = dir.Write("notes.db", std::string(8192, 'x'));
  auto foreign = store::ArchiveIfDamaged(text, kNoon, 0);
  ASSERT_TRUE(foreign.ok()) << foreign.status().message();
  EXPECT_FALSE(foreign->has_value());
  EXPECT_TRUE(Exists(text));

  const std::string sound = dir.File("monitor.db");
  MakeDatabase(sound, 100);
  auto checked = store::ArchiveIfDamaged(sound, kNoon, 3);
  ASSERT_TRUE(checked.ok()) << checked.status().message();
  EXPECT_FALSE(checked->has_value());
  EXPECT_TRUE(Exists(sound));
  EXPECT_TRUE(store::ListArchives(sound).empty());
}

TEST(ArchiveIfDamaged, ADamagedDatabaseIsArchivedEvenWithLimitZero) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 2000);
  DamageRunTable(db);
  auto damage = store::ArchiveIfDamaged(db, kNoon, /*archive_limit=*/0);
  ASSERT_TRUE(damage.ok()) << damage.status().message();
  ASSERT_TRUE(damage->has_value());
  EXPECT_NE((*damage)->problem, "");
  EXPECT_EQ((*damage)->archived.archive, dir.File("monitor.db.archive-20251205T120000.000Z.gz"));
  EXPECT_FALSE(Exists(db));
  EXPECT_THAT(store::ListArchives(db), SizeIs(1));
}

TEST(LiveDatabase, ADamagedFileAtStartIsArchivedAndTheFreshRunSaysSo) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 2000);
  DamageRunTable(db);
  auto live = LiveDatabase::Open(LiveOptions(db), /*archive_limit=*/2, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  ASSERT_TRUE((*live)->last_event().has_value());
  EXPECT_THAT((*live)->last_event()->what, HasSubstr("damaged at start"));
  const std::string archive = (*live)->last_event()->archive;
  EXPECT_TRUE(Exists(archive)) << archive;
  EXPECT_THAT((*live)->run_note(), StartsWith("fresh database: database damaged at start"));
  EXPECT_THAT((*live)->run_note(), HasSubstr(archive));
  live->reset();
  // The fresh file has this run alone, and its note is in `runs`.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "1");
  EXPECT_THAT(Scalar(db, "SELECT note FROM runs"), HasSubstr("damaged at start"));
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  // The archive is the damaged database, byte for byte a database again.
  Gunzip(archive, dir.File("restored.db"));
  // Damage is either reported by quick_check or stops it: never "ok".
  EXPECT_NE(QueryValues(dir.File("restored.db"), "PRAGMA quick_check", nullptr,
                        /*step_errors_fail=*/false),
            (std::vector<std::vector<std::string>>{{"ok"}}));
}

TEST(LiveDatabase, ASoundFileIsKeptAndItsRunHasNoNote) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 3);
  auto live = LiveDatabase::Open(LiveOptions(db), 2, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  EXPECT_FALSE((*live)->last_event().has_value());
  live->reset();
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "4");
  EXPECT_EQ(Scalar(db, "SELECT note FROM runs ORDER BY run_id DESC LIMIT 1"), "NULL");
  EXPECT_TRUE(store::ListArchives(db).empty());
}

// The daemon's start: the damaged file is archived before the run's row is
// written, so the fresh database's first run says what happened (the start
// fails later on purpose, at the JSON output, before any kernel work).
TEST(LiveDatabase, TheDaemonsStartArchivesADamagedDatabase) {
  TempDir dir;
  DaemonOptions options = DaemonThatFailsAfterTheRunBegan(dir);
  options.config.database_archive_limit = 0;
  MakeDatabase(options.db_path, 2000);
  DamageRunTable(options.db_path);
  Status status = RunDaemon(options);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(Scalar(options.db_path, "SELECT note FROM runs"),
              HasSubstr("database damaged at start"));
  EXPECT_THAT(Scalar(options.db_path, "SELECT error FROM runs"), StartsWith("start failed"));
  EXPECT_THAT(store::ListArchives(options.db_path), SizeIs(1));
}

TEST(LiveDatabase, StatusShowsTheLastEventOfTheDatabaseFile) {
  StatusSnapshot snapshot;
  snapshot.db_path = "/var/lib/recorder/monitor.db";
  nlohmann::json quiet = StatusJson(snapshot);
  EXPECT_FALSE(quiet["db"].contains("last_event"));
  snapshot.db_event =
      StatusSnapshot::DbEvent{kNoon, "database damaged at start (x): archived to A", "A", 0};
  nlohmann::json json = StatusJson(snapshot);
  EXPECT_EQ(json["db"]["last_event"]["what"], "database damaged at start (x): archived to A");
  EXPECT_EQ(json["db"]["last_event"]["archive"], "A");
  EXPECT_EQ(json["db"]["last_event"]["time_ms"], kNoon);
  json["state"] = "running";
  EXPECT_THAT(FormatStatusText(json),
              HasSubstr("  database event: database damaged at start (x): archived to A\n"));
}

// ---------------------------------------------------------------------
// Switching files

TEST(LiveDatabase, ASwitchKeepsEveryEventInTheArchiveOrTheFreshFile) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  auto live = LiveDatabase::Open(LiveOptions(db), 2, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  // An open batch: written, not yet committed when the switch comes.
  WriteFileEvents((*live)->store(), 300, "before");
  store::RunStats last;
  last.lines = 1234;
  auto event = (*live)->Switch(LiveDatabase::SwitchKind::kArchive, "a test", 2, last, kNoon + 1000);
  ASSERT_TRUE(event.ok()) << event.status().message();
  EXPECT_EQ(event->archive, dir.File("monitor.db.archive-20251205T120001.000Z.gz"));
  EXPECT_EQ((*live)->switches(), 1);
  WriteFileEvents((*live)->store(), 200, "after", 0, 1000);
  ASSERT_TRUE((*live)->store()->Flush().ok());

  // The archive is compressed beside the recording; waited for here.
  (*live)->FinishArchives();
  Gunzip(event->archive, dir.File("old.db"));
  EXPECT_EQ(Scalar(dir.File("old.db"), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(dir.File("old.db"), "SELECT count(*) FROM file_events"), "300");
  EXPECT_EQ(Scalar(dir.File("old.db"), "SELECT lines || ' ' || note FROM runs"),
            "1234 database switched: a test");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events"), "200");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events WHERE path LIKE '/tmp/before/%'"), "0");
  EXPECT_THAT(Scalar(db, "SELECT note FROM runs"),
              StartsWith("fresh database: a test: archived to " + event->archive));
}

// The run goes on in the fresh file: its row there keeps the run's start
// and starts from the counts so far (the source's, and what the store
// wrote into the old file), from the switch on, not from zero at the next
// statistics write.
TEST(LiveDatabase, TheRunsRowInTheFreshFileCarriesOnCounting) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  auto live = LiveDatabase::Open(LiveOptions(db), 1, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  WriteFileEvents((*live)->store(), 30, "before");
  store::RunStats so_far;
  so_far.lines = 500;
  so_far.kernel_lost = 7;
  for (auto kind : {LiveDatabase::SwitchKind::kArchive, LiveDatabase::SwitchKind::kDiscard}) {
    auto event = (*live)->Switch(kind, "a test", 1, so_far, kNoon + 60'000);
    ASSERT_TRUE(event.ok()) << event.status().message();
    // Straight after the switch, before any event or statistics write.
    EXPECT_EQ(Scalar(db,
                     "SELECT start_time || ' ' || lines || ' ' || kernel_lost || ' ' || "
                     "file_events FROM runs"),
              fmt::format("{} 500 7 30", kNoon));
  }
  WriteFileEvents((*live)->store(), 5, "after", 0, 1000);
  so_far.lines = 520;
  ASSERT_TRUE((*live)->store()->RecordRunStats(so_far, kNoon + 70'000).ok());
  ASSERT_TRUE((*live)->store()->Flush().ok());
  EXPECT_EQ(Scalar(db, "SELECT lines || ' ' || file_events FROM runs"), "520 35");
  (*live)->FinishArchives();
}

// A stop or a crash during a compression leaves the archive moved aside
// but uncompressed (and maybe a half temporary file): the next Open
// compresses it, and nothing half written remains.
TEST(LiveDatabase, AnArchiveLeftUncompressedIsCompressedAfterTheNextOpen) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 1000);
  auto moved = store::MoveAsideForArchive(db, kNoon);
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  std::ofstream(*moved + ".gz.tmp") << "half";
  auto live = LiveDatabase::Open(LiveOptions(db), 0, kNoon + 1000);
  ASSERT_TRUE(live.ok()) << live.status().message();
  (*live)->FinishArchives();
  EXPECT_EQ(store::ListArchives(db), std::vector<std::string>{*moved + ".gz"});
  EXPECT_FALSE(Exists(*moved));
  EXPECT_FALSE(Exists(*moved + ".gz.tmp"));
  Gunzip(*moved + ".gz", dir.File("old.db"));
  EXPECT_EQ(Scalar(dir.File("old.db"), "SELECT count(*) FROM runs"), "1000");
}

TEST(LiveDatabase, DiscardRemovesWithoutAnArchiveAndReopenFollowsTheFileAway) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  auto live = LiveDatabase::Open(LiveOptions(db), 2, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  WriteFileEvents((*live)->store(), 10, "gone");
  auto discarded = (*live)->Switch(LiveDatabase::SwitchKind::kDiscard, "recorder recreate-db", 2,
                                   {}, kNoon + 1000);
  ASSERT_TRUE(discarded.ok()) << discarded.status().message();
  EXPECT_EQ(discarded->archive, "");
  EXPECT_TRUE(store::ListArchives(db).empty());
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events"), "0");
  EXPECT_THAT(Scalar(db, "SELECT note FROM runs"), HasSubstr("removed without an archive"));

  // Someone deletes the file under the recorder: noticed, and a fresh one
  // made at the path.
  EXPECT_TRUE((*live)->FileIsOurs());
  ASSERT_EQ(unlink(db.c_str()), 0);
  EXPECT_FALSE((*live)->FileIsOurs());
  auto reopened =
      (*live)->Switch(LiveDatabase::SwitchKind::kReopen, "deleted under us", 2, {}, kNoon + 2000);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  EXPECT_TRUE((*live)->FileIsOurs());
  WriteFileEvents((*live)->store(), 5, "new", 0, 100);
  ASSERT_TRUE((*live)->store()->Flush().ok());
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events"), "5");
  EXPECT_EQ(Scalar(db, "SELECT note FROM runs"), "fresh database: deleted under us");
}

// Someone replaces the file under the recorder (a restore, a copy moved
// over it): noticed by its identity, and recording goes on in the file the
// path names now, which keeps what it held.
TEST(LiveDatabase, AFileReplacedUnderTheRecorderIsNoticedAndFollowed) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  auto live = LiveDatabase::Open(LiveOptions(db), 0, kNoon);
  ASSERT_TRUE(live.ok()) << live.status().message();
  WriteFileEvents((*live)->store(), 10, "ours");
  ASSERT_TRUE((*live)->store()->Flush().ok());
  const std::string other = dir.File("restored.db");
  MakeDatabase(other, 3);
  EXPECT_TRUE((*live)->FileIsOurs());
  ASSERT_EQ(rename(other.c_str(), db.c_str()), 0);
  EXPECT_FALSE((*live)->FileIsOurs());
  auto reopened =
      (*live)->Switch(LiveDatabase::SwitchKind::kReopen, "replaced under us", 0, {}, kNoon + 1000);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  EXPECT_TRUE((*live)->FileIsOurs());
  WriteFileEvents((*live)->store(), 4, "after", 0, 100);
  ASSERT_TRUE((*live)->store()->Flush().ok());
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events"), "4");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "4");
  EXPECT_EQ(Scalar(db, "SELECT note FROM runs ORDER BY run_id DESC LIMIT 1"),
            "fresh database: replaced under us");
}

// ---------------------------------------------------------------------
// MaxCleanTries -> archive -> DatabaseArchiveLimit

// Drives a CleanupTask over a LiveDatabase whose contents cleanup cannot
// shrink under maxSizeMB (strings stay while process rows go), with the
// clock in the test's hands.
struct CleanupRig {
  explicit CleanupRig(const TempDir& dir, int max_clean_tries, int archive_limit)
      : path(dir.File("monitor.db")) {
    config = config::DefaultConfig(dir.path());
    config.max_size_mb = 1;
    config.max_clean_tries = max_clean_tries;
    config.database_archive_limit = archive_limit;
    config.absolute_max_storage_size_mb = 0;
    config.max_runtime_storage_size_mb = 0;
    auto opened = LiveDatabase::Open(LiveOptions(path), archive_limit, kNoon);
    EXPECT_TRUE(opened.ok()) << opened.status().message();
    db = std::move(*opened);
    task = std::make_unique<CleanupTask>(
        db->store(), config, 250, 5000, mono, [](const std::string&) {},
        [this](const std::string& reason) {
          auto event = db->Switch(LiveDatabase::SwitchKind::kArchive, reason,
                                  config.database_archive_limit, {}, wall);
          EXPECT_TRUE(event.ok()) << event.status().message();
          db->FinishArchives();
          task->SetStore(db->store());
          archives.push_back(event.ok() ? event->archive : "");
          runs_at_archive.push_back(finished_runs + 1);  // this run's end is not seen yet
        });
  }

  // About 2 MB of paths, each in the strings table, which cleanup keeps.
  void Fill(const std::string& tag) {
    WriteFileEvents(db->store(), 8000, tag, 200, ++batches * 100000);
    ASSERT_TRUE(db->store()->Flush().ok());
  }

  // Runs the task every 250 ms of the injected clock until `archive_count`
  // archives were made or `limit_ms` passed.
  void RunUntil(size_t archive_count, int64_t limit_ms) {
    const int64_t end = mono + limit_ms;
    while (archives.size() < archive_count && mono < end) {
      mono += 250;
      wall += 250;
      Status ran = task->Run({mono, wall});
      ASSERT_TRUE(ran.ok()) << ran.message();
      if (task->last_run() && task->last_run_wall_ms() != last_seen_run) {
        last_seen_run = task->last_run_wall_ms();
        ++finished_runs;
      }
    }
  }

  std::string path;
  config::RecorderConfig config;
  std::unique_ptr<LiveDatabase> db;
  std::unique_ptr<CleanupTask> task;
  int64_t mono = 1'000'000;
  int64_t wall = kNoon;
  int64_t last_seen_run = -1;
  int finished_runs = 0;
  uint64_t batches = 0;
  std::vector<std::string> archives;
  std::vector<int> runs_at_archive;
};

TEST(MaxCleanTries, FailedCleanupsArchiveTheDatabaseAndTheLimitKeepsTheNewest) {
  TempDir dir;
  CleanupRig rig(dir, /*max_clean_tries=*/3, /*archive_limit=*/1);
  rig.Fill("first");
  // Ten minutes of clock: the size check (every 5 s) starts a run as soon
  // as the file is over maxSizeMB; the third run in a row that ends over
  // it archives the file.
  rig.RunUntil(1, 10 * 60'000);
  ASSERT_THAT(rig.archives, SizeIs(1));
  EXPECT_EQ(rig.runs_at_archive[0], 3);
  EXPECT_TRUE(Exists(rig.archives[0]));
  // A fresh, small file that holds none of the old rows.
  EXPECT_EQ(Scalar(rig.path, "SELECT count(*) FROM file_events"), "0");
  EXPECT_THAT(Scalar(rig.path, "SELECT note FROM runs"), HasSubstr("MaxCleanTries 3"));
  EXPECT_EQ(rig.task->failed_tries(), 0);

  // Under the limit, runs do not count as failures: nothing is archived.
  rig.RunUntil(2, 5 * 60'000);
  EXPECT_THAT(rig.archives, SizeIs(1));

  // Over it again: a second archive; DatabaseArchiveLimit 1 erases the first.
  rig.Fill("second");
  const int runs_before = rig.finished_runs;
  rig.RunUntil(2, 10 * 60'000);
  ASSERT_THAT(rig.archives, SizeIs(2));
  EXPECT_EQ(rig.runs_at_archive[1] - runs_before, 3);
  EXPECT_EQ(store::ListArchives(rig.path), std::vector<std::string>{rig.archives[1]});
  EXPECT_FALSE(Exists(rig.archives[0]));
  Gunzip(rig.archives[1], dir.File("second.db"));
  EXPECT_EQ(Scalar(dir.File("second.db"), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(dir.File("second.db"),
                   "SELECT count(*) FROM strings WHERE value LIKE '/tmp/second/%'"),
            "8000");
}

TEST(MaxCleanTries, ZeroArchivesAtTheFirstFailedRunAndLimitZeroKeepsNoArchive) {
  TempDir dir;
  CleanupRig rig(dir, /*max_clean_tries=*/0, /*archive_limit=*/0);
  rig.Fill("only");
  rig.RunUntil(1, 10 * 60'000);
  ASSERT_THAT(rig.archives, SizeIs(1));
  EXPECT_EQ(rig.runs_at_archive[0], 1);
  EXPECT_EQ(rig.archives[0], "");
  EXPECT_TRUE(store::ListArchives(rig.path).empty());
  EXPECT_THAT(Scalar(rig.path, "SELECT note FROM runs"), HasSubstr("keeps no archive"));
}

// ---------------------------------------------------------------------
// DatabaseErrorWaitMinutes

TEST(DatabaseRetry, WaitsTheConfiguredMinutesAndNeverLessThanTheFloor) {
  DatabaseRetry retry(5);
  EXPECT_TRUE(retry.Due(0));
  retry.Failed(1000);
  EXPECT_EQ(retry.failures(), 1);
  EXPECT_FALSE(retry.Due(1000 + 5 * 60'000 - 1));
  EXPECT_TRUE(retry.Due(1000 + 5 * 60'000));
  DatabaseRetry zero(0);
  zero.Failed(0);
  EXPECT_EQ(zero.wait_ms(), DatabaseRetry::kMinWaitMs);
  EXPECT_FALSE(zero.Due(DatabaseRetry::kMinWaitMs - 1));
}

TEST(DatabaseRetry, RetriesWhatTimeCanFixAndNotWhatNeedsAPerson) {
  EXPECT_TRUE(DatabaseRetry::Retryable(Status::Error(StatusCode::kNotFound, "no dir")));
  EXPECT_TRUE(DatabaseRetry::Retryable(Status::Error(StatusCode::kIo, "disk full")));
  EXPECT_TRUE(DatabaseRetry::Retryable(Status::Error(StatusCode::kNoSpace, "disk full")));
  EXPECT_TRUE(DatabaseRetry::Retryable(Status::Error(StatusCode::kBusy, "locked")));
  EXPECT_TRUE(DatabaseRetry::Retryable(Status::Error(StatusCode::kPermission, "EACCES")));
  EXPECT_FALSE(DatabaseRetry::Retryable(Status::Error(StatusCode::kCorrupt, "not a database")));
  EXPECT_FALSE(DatabaseRetry::Retryable(Status::Error(StatusCode::kInvalid, "a symlink")));
  EXPECT_FALSE(DatabaseRetry::Retryable(Status::Error("newer schema")));
}

// The daemon waits instead of retrying at once: a database in a directory
// that does not exist yet is not tried again within the wait, even once
// the directory appears; status says it is waiting; `stop` ends the wait.
TEST(DatabaseRetry, TheDaemonWaitsForTheDatabaseAndStopsOnRequest) {
  TempDir dir;
  DaemonOptions options = DaemonIn(dir);
  options.config.database_error_wait_minutes = 1;
  options.db_path = dir.File("later/monitor.db");
  Status result = Status::Ok();
  std::thread daemon([&] { result = RunDaemon(options); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!ControlRequest(options.config.control_socket, "ping", 200).ok() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::filesystem::create_directory(dir.File("later"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto status = ControlRequest(options.config.control_socket, "status");
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_THAT(*status, HasSubstr("waiting for the database"));
  EXPECT_THAT(*status, HasSubstr("later/monitor.db"));
  EXPECT_FALSE(Exists(options.db_path)) << "tried again before DatabaseErrorWaitMinutes";
  CommandResult text = RunCommand(std::string(RECORDER_BINARY) + " status --state-dir " +
                                  dir.File("state") + " --db " + options.db_path);
  EXPECT_EQ(text.exit_code, 3) << text.output;
  EXPECT_THAT(text.output, HasSubstr("recorder: waiting for the database"));
  EXPECT_THAT(text.output, HasSubstr("does not exist"));
  auto stop = ControlRequest(options.config.control_socket, "stop");
  EXPECT_TRUE(stop.ok()) << stop.status().message();
  daemon.join();
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_FALSE(Exists(options.config.pid_file));
}

// ---------------------------------------------------------------------
// `recorder recreate-db` with no recorder running

std::string RecreateDb(const TempDir& dir, const std::string& args) {
  return std::string(RECORDER_BINARY) + " recreate-db --db " + dir.File("monitor.db") +
         " --state-dir " + dir.File("state") + " --config " + dir.path() + " " + args;
}

TEST(RecreateDbCommand, ArchivesThenDiscardsAndLeavesAFreshDatabase) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 5);
  CommandResult archived = RunCommand(RecreateDb(dir, ""));
  ASSERT_EQ(archived.exit_code, 0) << archived.output;
  EXPECT_THAT(archived.output, HasSubstr("archived to " + db + ".archive-"));
  // DatabaseArchiveLimit is 0 by default: an archive asked for is kept.
  const std::vector<std::string> archives = store::ListArchives(db);
  ASSERT_THAT(archives, SizeIs(1));
  Gunzip(archives[0], dir.File("old.db"));
  EXPECT_EQ(Scalar(dir.File("old.db"), "SELECT count(*) FROM runs"), "5");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "0");
  EXPECT_EQ(Scalar(db, "PRAGMA user_version"), std::to_string(store::kSchemaVersion));

  MakeDatabase(db, 2);
  CommandResult discarded = RunCommand(RecreateDb(dir, "--discard"));
  ASSERT_EQ(discarded.exit_code, 0) << discarded.output;
  EXPECT_THAT(discarded.output, HasSubstr("removed without an archive"));
  EXPECT_EQ(store::ListArchives(db), archives);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "0");
}

TEST(RecreateDbCommand, LeavesTheFileOfARecorderThatDoesNotAnswer) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 1);
  std::filesystem::create_directory(dir.File("state"));
  // A live process in the pid file, no control socket.
  dir.Write("state/recorder.pid", std::to_string(getpid()) + "\n");
  CommandResult refused = RunCommand(RecreateDb(dir, ""));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("does not answer"));
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "1");
  EXPECT_TRUE(store::ListArchives(db).empty());
}

TEST(RecreateDbCommand, HelpSaysWhatItDoes) {
  CommandResult help = RunCommand(std::string(RECORDER_BINARY) + " recreate-db --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("Recreate Database"));
  EXPECT_THAT(help.output, HasSubstr("--discard"));
  EXPECT_THAT(help.output, HasSubstr("no event is lost"));
}

}  // namespace
}  // namespace recorder::daemon
