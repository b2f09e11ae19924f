// Retention against real monitor.db files written by the EventStore:
// MonitorDays removes old events and the process rows nothing needs any
// more, keeps the rest; maxSizeMB shrinks the file (DB + WAL) below the
// limit, oldest first; the hard limit says "disable"; zero settings do
// nothing; the store's open transaction is refused; tables of a newer
// schema are found by their shape. Every test ends with integrity_check.
#include "store/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "db_query.h"
#include "store/event_store.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'750'000'000'000;  // 2025-06-15T15:06:40Z
constexpr int64_t kMinute = 60'000;
constexpr int64_t kOld = kNow - 100 * kMsPerDay;   // beyond MonitorDays=90
constexpr int64_t kRecent = kNow - 1 * kMsPerDay;  // within it

int64_t Count(const std::string& db_path, const std::string& sql) {
  return std::stoll(Scalar(db_path, sql));
}

std::set<std::string> Column(const std::string& db_path, const std::string& sql) {
  std::set<std::string> values;
  for (const auto& row : QueryValues(db_path, sql)) values.insert(row.at(0));
  return values;
}

int64_t FileBytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

class Writer {
 public:
  explicit Writer(EventStore* store) : store_(store) {}

  void Exec(int64_t time_ms, int32_t pid, const std::string& exe) {
    ProcessStart start;
    start.argv = {exe, "--flag"};
    start.argc = 2;
    start.cwd = "/";
    TypedEvent e = Base(time_ms, pid, exe);
    e.header.syscall = "execve";
    e.body = start;
    events_.push_back(std::move(e));
  }
  void Exit(int64_t time_ms, int32_t pid, const std::string& exe) {
    TypedEvent e = Base(time_ms, pid, exe);
    e.body = ProcessEnd{0};
    events_.push_back(std::move(e));
  }
  void File(int64_t time_ms, int32_t pid, const std::string& exe, const std::string& path) {
    FileEvent f;
    f.operation = FileOperation::kWrite;
    f.path = path;
    TypedEvent e = Base(time_ms, pid, exe);
    e.body = f;
    events_.push_back(std::move(e));
  }
  void Connect(int64_t time_ms, int32_t pid, const std::string& exe) {
    NetworkEvent n;
    n.direction = NetworkDirection::kOutbound;
    n.protocol = NetworkProtocol::kTcp;
    n.family = AddressFamily::kInet;
    n.remote_address = "192.0.2.1";
    n.remote_port = 443;
    TypedEvent e = Base(time_ms, pid, exe);
    e.body = n;
    events_.push_back(std::move(e));
  }
  // Writes and commits what was queued.
  void Commit() {
    Status added = store_->Add(&events_, 0);
    ASSERT_TRUE(added.ok()) << added.message();
    events_.clear();
    Status flushed = store_->Flush();
    ASSERT_TRUE(flushed.ok()) << flushed.message();
  }

 private:
  TypedEvent Base(int64_t time_ms, int32_t pid, const std::string& exe) {
    TypedEvent e;
    e.header.time_ms = time_ms;
    e.header.serial = ++serial_;
    e.subject.pid = pid;
    e.subject.ppid = 1;
    e.subject.uid = 0;
    e.subject.euid = 0;
    e.subject.exe = exe;
    e.subject.comm = std::filesystem::path(exe).filename();
    return e;
  }

  EventStore* store_;
  EventBatch events_;
  uint64_t serial_ = 0;
};

std::unique_ptr<EventStore> OpenOrDie(const std::string& path) {
  auto store = EventStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

RetentionPolicy Policy(int monitor_days, int64_t max_size_bytes, int64_t hard_limit_bytes = 0) {
  RetentionPolicy p;
  p.monitor_days = monitor_days;
  p.max_size_bytes = max_size_bytes;
  p.clean_percent_over_limit = 10;
  p.max_runtime_storage_bytes = hard_limit_bytes;
  p.absolute_max_storage_bytes = hard_limit_bytes;
  p.rows_per_step = 500;
  return p;
}

// Steps until the run is over; every step must stay within its bound.
struct RunTotals {
  std::map<std::string, int64_t> deleted;
  int steps = 0;
  RetentionResult last;
};
RunTotals RunToEnd(Retention* retention, Database* db, int64_t now_ms) {
  RunTotals totals;
  for (int i = 0; i < 100'000; ++i) {
    Result<RetentionResult> step = retention->Step(db, now_ms);
    EXPECT_TRUE(step.ok()) << step.status().message();
    if (!step.ok()) break;
    ++totals.steps;
    // Rows read/deleted per step are bounded by rows_per_step (time-keyed
    // tables may go over by the rows tied at the bound).
    EXPECT_LE(step->total_deleted(), 2 * retention->policy().rows_per_step);
    for (const auto& [table, rows] : step->rows_deleted) totals.deleted[table] += rows;
    totals.last = *step;
    if (!step->more_work) break;
  }
  return totals;
}

void ExpectIntegrity(const std::string& path) {
  EXPECT_EQ(Scalar(path, "PRAGMA integrity_check"), "ok");
}

int64_t ProcessId(const std::string& path, int pid) {
  return Count(path, "SELECT max(process_id) FROM process_data WHERE pid = " + std::to_string(pid));
}

// Each test's monitor.db, written by an EventStore through a Writer.
class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_); }

  TempDir dir_;
  const std::string path_ = dir_.File("monitor.db");
  std::unique_ptr<EventStore> store_ = OpenOrDie(path_);
  Writer w_{store_.get()};
};

TEST_F(RetentionTest, MonitorDaysRemovesOldEventsAndUnneededProcesses) {
  // 100: an old process, its events and its exit: all of it goes.
  w_.Exec(kOld, 100, "/usr/bin/old");
  for (int i = 0; i < 1200; ++i) w_.File(kOld + 1 + i, 100, "/usr/bin/old", "/tmp/old");
  w_.Connect(kOld + 2000, 100, "/usr/bin/old");
  w_.Exit(kOld + 3000, 100, "/usr/bin/old");
  // 200: started long ago and still running: its row stays, its old events go.
  w_.Exec(kOld, 200, "/usr/sbin/daemon");
  w_.File(kOld + 5, 200, "/usr/sbin/daemon", "/var/log/d");
  // 300: started long ago, still running, and active recently: row and recent event stay.
  w_.Exec(kOld, 300, "/usr/sbin/busy");
  w_.Connect(kRecent, 300, "/usr/sbin/busy");
  // 400: an old exec replaced by a later exec of the same pid (never "ended"
  // itself, but the pid maps to the newer row): the old row goes.
  w_.Exec(kOld, 400, "/bin/sh");
  w_.Exec(kOld + kMinute, 400, "/usr/bin/make");
  w_.Exit(kOld + 2 * kMinute, 400, "/usr/bin/make");
  // 500: ended long ago, but a recent event still names it (made below): stays.
  w_.Exec(kOld, 500, "/usr/bin/referenced");
  w_.Exit(kOld + 10, 500, "/usr/bin/referenced");
  // 600: ended long ago, but the recent process 700 names it as parent: stays.
  w_.Exec(kOld, 600, "/usr/bin/parent");
  w_.Exit(kOld + 10, 600, "/usr/bin/parent");
  // 700, 800: recent.
  w_.Exec(kRecent, 700, "/usr/bin/child");
  w_.File(kRecent + 1, 700, "/usr/bin/child", "/tmp/new");
  w_.Exec(kRecent + 5, 800, "/usr/bin/new");
  w_.File(kRecent + 6, 800, "/usr/bin/new", "/tmp/new2");
  w_.Exit(kRecent + 7, 800, "/usr/bin/new");
  w_.Commit();

  // Links the store has no reason to make here, written as a reader would
  // see them: a recent event of 500 and 700's parent 600.
  {
    Database* db = store_->database();
    ASSERT_TRUE(db->Exec("UPDATE file_data SET time = " + std::to_string(kRecent + 2) +
                         ", process_id = " + std::to_string(ProcessId(path_, 500)) +
                         " WHERE id = (SELECT max(id) FROM file_data WHERE process_id = " +
                         std::to_string(ProcessId(path_, 200)) + ")")
                    .ok());
    ASSERT_TRUE(db->Exec("UPDATE process_data SET parent_process_id = " +
                         std::to_string(ProcessId(path_, 600)) + " WHERE pid = 700")
                    .ok());
  }
  const int64_t process_rows_before = Count(path_, "SELECT count(*) FROM process_data");
  ASSERT_EQ(process_rows_before, 9);

  Retention retention(Policy(90, 0));
  RunTotals run = RunToEnd(&retention, store_->database(), kNow);
  EXPECT_GT(run.steps, 2) << "1200 old rows with 500 rows per step take several steps";
  EXPECT_FALSE(run.last.more_work);
  EXPECT_FALSE(run.last.disable);
  EXPECT_EQ(run.last.age_cutoff_ms, kNow - 90 * kMsPerDay);

  // Events: only the recent ones, in every view.
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_events"), 3);
  EXPECT_EQ(
      Count(path_, "SELECT count(*) FROM file_events WHERE time < " + std::to_string(kRecent)), 0);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM network_events"), 1);
  EXPECT_EQ(Scalar(path_, "SELECT pid FROM network_events"), "300");
  EXPECT_EQ(Column(path_, "SELECT pid FROM file_events"),
            (std::set<std::string>{"500", "700", "800"}));
  EXPECT_EQ(run.deleted["file_data"], 1200);
  EXPECT_EQ(run.deleted["network_data"], 1);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM audit_events WHERE time < " +
                             std::to_string(kNow - 90 * kMsPerDay)),
            0);
  EXPECT_GT(Count(path_, "SELECT count(*) FROM audit_events"), 0);

  // Processes: 100 and the replaced /bin/sh row and its ended successor
  // went; running, referenced, parent and recent rows stayed.
  EXPECT_EQ(Column(path_, "SELECT pid || ':' || exe FROM processes"),
            (std::set<std::string>{"200:/usr/sbin/daemon", "300:/usr/sbin/busy",
                                   "500:/usr/bin/referenced", "600:/usr/bin/parent",
                                   "700:/usr/bin/child", "800:/usr/bin/new"}));
  EXPECT_EQ(run.deleted["process_data"], 3);
  // Every remaining event still finds its process (the views are joins).
  EXPECT_EQ(Count(path_,
                  "SELECT count(*) FROM file_data WHERE process_id NOT IN "
                  "(SELECT process_id FROM process_data)"),
            0);
  EXPECT_EQ(Count(path_,
                  "SELECT count(*) FROM network_data WHERE process_id NOT IN "
                  "(SELECT process_id FROM process_data)"),
            0);
  ExpectIntegrity(path_);

  // A second run finds nothing more to do.
  RunTotals again = RunToEnd(&retention, store_->database(), kNow);
  int64_t more = 0;
  for (const auto& [table, rows] : again.deleted) more += rows;
  EXPECT_EQ(more, 0);

  // The store goes on writing on the same connection, to the same processes.
  w_.File(kNow, 300, "/usr/sbin/busy", "/tmp/after");
  w_.Commit();
  EXPECT_EQ(Scalar(path_, "SELECT exe FROM file_events WHERE path = '/tmp/after'"),
            "/usr/sbin/busy");
  ExpectIntegrity(path_);
}

// A database ten seconds old with MonitorDays 90, as the first cleanup
// after a start finds it: no event goes, whatever process rows the store
// made (placeholders for processes seen without their exec, a pid's exec
// after its placeholder, ended processes). Nor does an event one second
// inside MonitorDays.
TEST_F(RetentionTest, NoEventYoungerThanMonitorDaysIsEverDeleted) {
  const int64_t start = kNow - 10'000;
  w_.File(start, 100, "/usr/bin/seen-late", "/tmp/a");  // a placeholder row
  w_.Exec(start + 1, 100, "/usr/bin/next");             // takes pid 100 over
  w_.File(start + 2, 100, "/usr/bin/next", "/tmp/b");
  w_.Exit(start + 3, 100, "/usr/bin/next");
  w_.Connect(start + 4, 200, "/usr/sbin/daemon");  // another placeholder
  w_.Exec(start + 5, 300, "/bin/true");
  w_.Exit(start + 6, 300, "/bin/true");
  w_.File(kNow - 90 * kMsPerDay + 1000, 400, "/usr/bin/edge", "/tmp/edge");
  w_.Commit();
  const int64_t files = Count(path_, "SELECT count(*) FROM file_events");
  const int64_t network = Count(path_, "SELECT count(*) FROM network_events");
  const int64_t keys = Count(path_, "SELECT count(*) FROM audit_events");
  ASSERT_EQ(files, 3);
  ASSERT_EQ(network, 1);

  Retention retention(Policy(90, 0));
  RunTotals run = RunToEnd(&retention, store_->database(), kNow);
  EXPECT_FALSE(run.last.more_work);
  for (const auto& [table, rows] : run.deleted) {
    if (table != "process_data") {
      EXPECT_EQ(rows, 0) << table;
    }
  }
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_events"), files);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM network_events"), network);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM audit_events"), keys);
  // Every process an event names is still there to name.
  EXPECT_EQ(Count(path_,
                  "SELECT count(*) FROM file_data WHERE process_id NOT IN "
                  "(SELECT process_id FROM process_data)"),
            0);
  EXPECT_EQ(Column(path_, "SELECT exe FROM processes WHERE pid = 300"),
            (std::set<std::string>{"/bin/true"}));
  ExpectIntegrity(path_);
}

TEST_F(RetentionTest, OldParentGoesWithItsOldChildInOneRun) {
  // A three-generation chain, all ended long ago; the scan meets each
  // parent before its child, so parents are retried once their child went.
  w_.Exec(kOld, 610, "/bin/bash");
  w_.Exec(kOld + 1, 611, "/usr/bin/make");
  w_.Exec(kOld + 2, 612, "/usr/bin/cc");
  w_.Exit(kOld + 3, 612, "/usr/bin/cc");
  w_.Exit(kOld + 4, 611, "/usr/bin/make");
  w_.Exit(kOld + 5, 610, "/bin/bash");
  w_.Exec(kRecent, 700, "/usr/bin/new");
  w_.Commit();
  Database* db = store_->database();
  ASSERT_TRUE(db->Exec("UPDATE process_data SET parent_process_id = " +
                       std::to_string(ProcessId(path_, 610)) + " WHERE pid = 611;" +
                       "UPDATE process_data SET parent_process_id = " +
                       std::to_string(ProcessId(path_, 611)) + " WHERE pid = 612;")
                  .ok());

  Retention retention(Policy(90, 0));
  RunTotals run = RunToEnd(&retention, db, kNow);
  EXPECT_EQ(run.deleted["process_data"], 3);
  EXPECT_EQ(Column(path_, "SELECT pid FROM processes"), (std::set<std::string>{"700"}));
  ExpectIntegrity(path_);
}

TEST_F(RetentionTest, ZeroSettingsDoNothing) {
  w_.Exec(kOld, 100, "/usr/bin/old");
  for (int i = 0; i < 2000; ++i) w_.File(kOld + i, 100, "/usr/bin/old", "/tmp/x");
  w_.Exit(kOld + 3000, 100, "/usr/bin/old");
  w_.Exec(kRecent, 101, "/usr/bin/new");
  w_.Commit();
  const int64_t files = Count(path_, "SELECT count(*) FROM file_data");
  const int64_t keys = Count(path_, "SELECT count(*) FROM audit_events");

  // MonitorDays 0 (keep forever) and maxSizeMB 0 (unlimited).
  Retention off(Policy(0, 0));
  Result<RetentionResult> step = off.Step(store_->database(), kNow);
  ASSERT_TRUE(step.ok()) << step.status().message();
  EXPECT_TRUE(step->run_finished);
  EXPECT_FALSE(step->run_started);
  EXPECT_FALSE(step->more_work);
  EXPECT_EQ(step->total_deleted(), 0);
  EXPECT_FALSE(step->disable);
  EXPECT_GT(step->after.page_count, 0);

  // MonitorDays 0 and a size limit the file is under: nothing either.
  Retention roomy(Policy(0, 1024 * kBytesPerMB));
  step = roomy.Step(store_->database(), kNow);
  ASSERT_TRUE(step.ok()) << step.status().message();
  EXPECT_FALSE(step->more_work);
  EXPECT_EQ(step->total_deleted(), 0);

  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_data"), files);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM audit_events"), keys);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM process_data"), 2);
  ExpectIntegrity(path_);
}

TEST_F(RetentionTest, SizeLimitDeletesOldestFirstAndShrinksTheFile) {
  // 120 processes, one a minute, each writing 400 files and ending;
  // the last one still running. All well inside MonitorDays.
  const int64_t base = kNow - 3 * kMsPerDay;
  for (int p = 0; p < 120; ++p) {
    const int32_t pid = 1000 + p;
    const int64_t t = base + p * kMinute;
    w_.Exec(t, pid, "/usr/bin/worker");
    for (int i = 0; i < 400; ++i) w_.File(t + 1 + i, pid, "/usr/bin/worker", "/srv/out");
    if (p % 10 == 0) w_.Connect(t + 500, pid, "/usr/bin/worker");
    if (p != 119) w_.Exit(t + 1000, pid, "/usr/bin/worker");
  }
  w_.Commit();
  ASSERT_TRUE(store_->database()->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  Result<StorageSize> size = MeasureStorage(store_->database());
  ASSERT_TRUE(size.ok());
  const int64_t full = size->total_bytes();
  ASSERT_GT(full, 1'000'000) << "test data too small to mean anything";
  const int64_t newest_before = Count(path_, "SELECT max(time) FROM file_data");

  // Limit at half the file: cleaned to 10% under it.
  const int64_t limit = full / 2;
  Retention retention(Policy(0, limit, /*hard=*/2 * limit));
  EXPECT_TRUE(retention.OverSizeLimit(*size));
  RunTotals run = RunToEnd(&retention, store_->database(), kNow);
  EXPECT_FALSE(run.last.more_work);
  EXPECT_TRUE(run.last.size_cleanup);
  EXPECT_FALSE(run.last.disable);
  EXPECT_FALSE(run.last.over_hard_limit);
  EXPECT_GT(run.steps, 5);

  // The file itself shrank (vacuum + checkpoint), below the limit and near
  // the 90% target (not emptied).
  const int64_t on_disk = FileBytes(path_) + FileBytes(path_ + "-wal");
  EXPECT_LE(on_disk, limit) << "full " << full;
  EXPECT_GT(on_disk, limit * 6 / 10) << "deleted far more than needed";
  EXPECT_LE(run.last.after.used_bytes(), limit * 90 / 100 + 64 * 1024);
  EXPECT_EQ(run.last.after.freelist_count, 0);
  EXPECT_EQ(FileBytes(path_ + "-wal"), 0);

  // Oldest first: everything left is newer than everything deleted, and
  // the newest rows are all there.
  const int64_t cutoff = run.last.size_cutoff_ms;
  ASSERT_GT(cutoff, base);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_data WHERE time <= " + std::to_string(cutoff)),
            0);
  EXPECT_EQ(Count(path_, "SELECT max(time) FROM file_data"), newest_before);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_events WHERE time > " +
                             std::to_string(newest_before - 5 * kMinute)),
            5 * 400);
  EXPECT_GT(run.deleted["file_data"], 0);
  EXPECT_GT(run.deleted["audit_events"], 0);
  // Process rows of the deleted past went too; those with events left stayed.
  EXPECT_GT(run.deleted["process_data"], 0);
  EXPECT_EQ(
      Count(path_, "SELECT count(*) FROM process_data WHERE end_time <= " + std::to_string(cutoff) +
                       " AND process_id NOT IN (SELECT process_id FROM file_data) "
                       "AND process_id NOT IN (SELECT process_id FROM network_data)"),
      0);
  EXPECT_EQ(Count(path_,
                  "SELECT count(*) FROM file_data WHERE process_id NOT IN "
                  "(SELECT process_id FROM process_data)"),
            0);
  EXPECT_EQ(Scalar(path_, "SELECT pid FROM processes WHERE end_time IS NULL"), "1119");
  ExpectIntegrity(path_);

  // The store keeps writing; the next run starts only when over the limit again.
  w_.File(kNow, 1119, "/usr/bin/worker", "/srv/late");
  w_.Commit();
  EXPECT_EQ(Scalar(path_, "SELECT pid FROM file_events WHERE path = '/srv/late'"), "1119");
  Result<RetentionResult> idle = retention.Step(store_->database(), kNow);
  ASSERT_TRUE(idle.ok()) << idle.status().message();
  EXPECT_FALSE(idle->more_work);
  EXPECT_EQ(idle->total_deleted(), 0);
}

TEST_F(RetentionTest, HardLimitSaysDisable) {
  w_.Exec(kRecent, 100, "/usr/bin/writer");
  for (int i = 0; i < 20'000; ++i) w_.File(kRecent + i, 100, "/usr/bin/writer", "/tmp/f");
  w_.Commit();
  Result<StorageSize> size = MeasureStorage(store_->database());
  ASSERT_TRUE(size.ok());
  ASSERT_GT(size->total_bytes(), 256 * 1024);

  // No cleanup configured, over the hard limit: disable at once.
  {
    Retention retention(Policy(0, 0, /*hard=*/128 * 1024));
    Result<RetentionResult> step = retention.Step(store_->database(), kNow);
    ASSERT_TRUE(step.ok()) << step.status().message();
    EXPECT_FALSE(step->more_work);
    EXPECT_TRUE(step->over_hard_limit);
    EXPECT_TRUE(step->disable);
    EXPECT_THAT(step->disable_reason, HasSubstr("MaxRuntimeStorageSizeMB"));
    EXPECT_EQ(step->total_deleted(), 0);
  }
  // Only the smaller hard limit counts; 0 means none.
  {
    RetentionPolicy policy = Policy(0, 0);
    policy.max_runtime_storage_bytes = 0;
    policy.absolute_max_storage_bytes = 128 * 1024;
    Retention retention(policy);
    Result<RetentionResult> step = retention.Step(store_->database(), kNow);
    ASSERT_TRUE(step.ok());
    EXPECT_TRUE(step->disable);
    policy.absolute_max_storage_bytes = 1024 * kBytesPerMB;
    Retention roomy(policy);
    step = roomy.Step(store_->database(), kNow);
    ASSERT_TRUE(step.ok());
    EXPECT_FALSE(step->over_hard_limit);
    EXPECT_FALSE(step->disable);
  }
  // With a size limit the cleanup runs first; the running process's row,
  // the strings and the schema cannot go, so a hard limit below them is
  // still exceeded when the run ends: disable then, not before.
  {
    Retention retention(Policy(0, 16 * 1024, /*hard=*/24 * 1024));
    bool said_disable_early = false;
    RetentionResult last;
    for (int i = 0; i < 10'000; ++i) {
      Result<RetentionResult> step = retention.Step(store_->database(), kNow);
      ASSERT_TRUE(step.ok()) << step.status().message();
      last = *step;
      if (step->more_work && step->disable) said_disable_early = true;
      if (!step->more_work) break;
    }
    EXPECT_FALSE(said_disable_early);
    EXPECT_FALSE(last.more_work);
    EXPECT_TRUE(last.disable);
    EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_data"), 0);
    EXPECT_EQ(Count(path_, "SELECT count(*) FROM process_data"), 1);
  }
  ExpectIntegrity(path_);
}

// The run's closing wal_checkpoint(TRUNCATE) finds the WAL busy whenever
// a reader holds a snapshot in it or the background checkpointer is at
// work. Ending the run then would leave the WAL counted in its size, and
// MaxCleanTries would archive a database the cleanup did shrink: the
// checkpoint is tried again in the next steps, and only a WAL still held
// after the last try ends the run with it, said so.
TEST(RetentionCheckpoint, ABusyClosingCheckpointIsTriedAgainInTheNextSteps) {
  // Two identical databases, so both runs take the same steps.
  struct Db {
    TempDir dir;
    std::string path = dir.File("monitor.db");
    std::unique_ptr<EventStore> store = OpenOrDie(path);
    sqlite3* reader = nullptr;
  };
  Db held, released;
  for (Db* db : {&held, &released}) {
    ASSERT_TRUE(db->store);
    Writer w{db->store.get()};
    w.Exec(kOld, 100, "/usr/bin/writer");
    for (int i = 0; i < 3000; ++i) w.File(kOld + i, 100, "/usr/bin/writer", "/tmp/old");
    w.Exit(kOld + 5000, 100, "/usr/bin/writer");
    w.Commit();
    ASSERT_TRUE(db->store->database()->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
    w.Exec(kRecent, 200, "/usr/bin/writer");
    w.File(kRecent + 1, 200, "/usr/bin/writer", "/tmp/new");
    w.Commit();
    // A reader whose snapshot is in the WAL.
    ASSERT_EQ(sqlite3_open_v2(db->path.c_str(), &db->reader, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db->reader, "BEGIN; SELECT count(*) FROM file_data;", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
  }
  RetentionPolicy policy = Policy(90, 0);
  policy.checkpoint_wait_ms = 1;
  policy.checkpoint_tries = 3;

  Retention held_retention(policy);
  RunTotals run = RunToEnd(&held_retention, held.store->database(), kNow);
  EXPECT_EQ(run.deleted["file_data"], 3000);
  EXPECT_TRUE(run.last.run_finished);
  EXPECT_TRUE(run.last.checkpoint_blocked);
  EXPECT_GT(run.last.after.wal_bytes, 0);
  const int steps = run.steps;
  ASSERT_GT(steps, policy.checkpoint_tries);

  // Released after the first busy try: the next step truncates the WAL.
  Retention released_retention(policy);
  RetentionResult last;
  int step_count = 0;
  for (; step_count < steps; ++step_count) {
    if (step_count == steps - policy.checkpoint_tries + 1) {
      sqlite3_exec(released.reader, "COMMIT", nullptr, nullptr, nullptr);
    }
    Result<RetentionResult> step = released_retention.Step(released.store->database(), kNow);
    ASSERT_TRUE(step.ok()) << step.status().message();
    last = *step;
    if (!step->more_work) break;
  }
  EXPECT_EQ(step_count + 1, steps - policy.checkpoint_tries + 2);
  EXPECT_TRUE(last.run_finished);
  EXPECT_FALSE(last.checkpoint_blocked);
  EXPECT_EQ(last.after.wal_bytes, 0);
  EXPECT_EQ(FileBytes(released.path + "-wal"), 0);
  for (Db* db : {&held, &released}) {
    sqlite3_exec(db->reader, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db->reader);
    ExpectIntegrity(db->path);
  }
}

TEST_F(RetentionTest, RefusesToRunInsideTheStoresOpenBatch) {
  for (int i = 0; i < 10; ++i) w_.File(kOld + i, 5, "/bin/x", "/f" + std::to_string(i));
  w_.Commit();
  RetentionPolicy policy = Policy(90, 0);
  policy.rows_per_step = 4;
  Retention retention(policy);
  Result<RetentionResult> first = retention.Step(store_->database(), kNow);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(first->more_work);  // a run is in progress
  const int64_t rows_before = Count(path_, "SELECT count(*) FROM file_data");

  EventBatch late;
  late.push_back(TypedEvent{});
  late[0].header.time_ms = kOld + 20;
  late[0].header.serial = 1000;
  late[0].subject.pid = 5;
  late[0].subject.exe = "/bin/x";
  late[0].body = FileEvent{};
  ASSERT_TRUE(store_->Add(&late, 0).ok());  // batch open, not committed
  Result<RetentionResult> refused = retention.Step(store_->database(), kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("Flush"));
  // The refusal changed nothing and ended nothing: the run goes on.
  EXPECT_TRUE(retention.in_run());
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_data"), rows_before);

  ASSERT_TRUE(store_->Flush().ok());
  RunTotals run = RunToEnd(&retention, store_->database(), kNow);
  // The ten old rows are gone; the late one came after the run began and
  // is the next run's.
  EXPECT_EQ(first->rows_deleted["file_data"] + run.deleted["file_data"], 10);
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM file_data"), 1);
  ExpectIntegrity(path_);
}

TEST_F(RetentionTest, FindsEventTablesOfANewerSchemaByTheirShape) {
  w_.Exec(kOld, 100, "/usr/bin/old");
  w_.Exit(kOld + 10, 100, "/usr/bin/old");
  w_.Exec(kOld, 200, "/usr/bin/other");
  w_.Exit(kOld + 10, 200, "/usr/bin/other");
  w_.Exec(kRecent, 300, "/usr/bin/new");
  w_.Commit();
  // What a schema v3 might add: an event table with rowid, one without,
  // and a table that is not an event table (no time column).
  Database* db = store_->database();
  const std::string old_id = std::to_string(ProcessId(path_, 100));
  const std::string kept_id = std::to_string(ProcessId(path_, 200));
  ASSERT_TRUE(db->Exec("CREATE TABLE pipe_data(id INTEGER PRIMARY KEY, time INTEGER NOT NULL, "
                       "process_id INTEGER NOT NULL, name TEXT);"
                       "CREATE TABLE tls_data(time INTEGER NOT NULL, seq INTEGER NOT NULL, "
                       "sni TEXT, PRIMARY KEY(time, seq)) WITHOUT ROWID;"
                       "CREATE TABLE host_data(id INTEGER PRIMARY KEY, name TEXT);")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO pipe_data(time, process_id, name) VALUES (" +
                       std::to_string(kOld + 1) + ", " + old_id + ", 'old'), (" +
                       std::to_string(kRecent) + ", " + kept_id +
                       ", 'new');"
                       "INSERT INTO tls_data VALUES (" +
                       std::to_string(kOld) + ", 1, 'old'), (" + std::to_string(kRecent) +
                       ", 2, 'new');"
                       "INSERT INTO host_data(name) VALUES ('h');")
                  .ok());

  Retention retention(Policy(90, 0));
  RunTotals run = RunToEnd(&retention, db, kNow);
  EXPECT_EQ(run.deleted["pipe_data"], 1);
  EXPECT_EQ(run.deleted["tls_data"], 1);
  EXPECT_EQ(Column(path_, "SELECT name FROM pipe_data"), (std::set<std::string>{"new"}));
  EXPECT_EQ(Column(path_, "SELECT sni FROM tls_data"), (std::set<std::string>{"new"}));
  EXPECT_EQ(Count(path_, "SELECT count(*) FROM host_data"), 1);
  // The new table's process_id counts as a reference: 200 stays, 100 goes.
  EXPECT_EQ(Column(path_, "SELECT pid FROM process_data"), (std::set<std::string>{"200", "300"}));
  ExpectIntegrity(path_);
}

}  // namespace
}  // namespace recorder::store
