// The free-disk-space floor (daemon/disk_space.h): the guard's decisions
// from (free, total, maxSizeMB), and the gate in front of a real store
// whose file system "fills up" (PRAGMA max_page_count: SQLite answers
// SQLITE_FULL as it does on a full disk) — no error ends the writing,
// every event not stored is counted, and writing resumes.
#include "daemon/disk_space.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "db_query.h"
#include "store/event_store.h"
#include "store/retention.h"
#include "temp_dir.h"

namespace recorder::daemon {
namespace {

constexpr int64_t kMB = int64_t{1} << 20;
constexpr int64_t kGB = kMB << 10;

TEST(DiskFloorTest, SixtyFourMbOrOnePercentAtMostAQuarter) {
  EXPECT_EQ(DiskFloorBytes(100 * kGB), kGB);     // 1% of a large disk
  EXPECT_EQ(DiskFloorBytes(2 * kGB), 64 * kMB);  // 64 MB on a small one
  EXPECT_EQ(DiskFloorBytes(16 * kMB), 4 * kMB);  // a quarter of a tiny one
  EXPECT_EQ(DiskFloorBytes(0), 0);
}

TEST(DiskSpaceGuardTest, StopsBelowTheFloorAndResumesAboveItsMargin) {
  DiskSpaceGuard guard(10 * kMB);
  const int64_t total = 16 * kMB;  // floor 4 MB, resume at 6 MB
  DiskSpaceGuard::Verdict v = guard.Feed({8 * kMB, total});
  EXPECT_TRUE(v.writing);
  EXPECT_FALSE(v.changed);
  EXPECT_EQ(v.floor_bytes, 4 * kMB);
  EXPECT_EQ(v.resume_bytes, 6 * kMB);

  v = guard.Feed({4 * kMB - 1, total});
  EXPECT_FALSE(v.writing);
  EXPECT_TRUE(v.changed);
  // Between the floor and the resume level: still stopped (no flapping).
  v = guard.Feed({5 * kMB, total});
  EXPECT_FALSE(v.writing);
  EXPECT_FALSE(v.changed);
  v = guard.Feed({6 * kMB, total});
  EXPECT_TRUE(v.writing);
  EXPECT_TRUE(v.changed);
  // Above the floor, writing goes on.
  v = guard.Feed({4 * kMB, total});
  EXPECT_TRUE(v.writing);
}

TEST(DiskSpaceGuardTest, AFullDiskStopsUntilTheResumeLevel) {
  DiskSpaceGuard guard(0);
  const int64_t total = 100 * kGB;  // floor 1 GB, resume at 1.5 GB
  EXPECT_TRUE(guard.Feed({kGB + kMB, total}).writing);
  guard.NoteFull();
  EXPECT_FALSE(guard.writing());
  EXPECT_FALSE(guard.Feed({kGB + kMB, total}).writing);
  EXPECT_TRUE(guard.Feed({2 * kGB, total}).writing);
}

TEST(DiskSpaceGuardTest, WarnsBelowThreeTimesMaxSize) {
  DiskSpaceGuard guard(1024 * kMB);
  EXPECT_EQ(guard.recommended_bytes(), 3 * kGB);
  EXPECT_TRUE(guard.Feed({3 * kGB - 1, 100 * kGB}).below_recommended);
  EXPECT_FALSE(guard.Feed({3 * kGB, 100 * kGB}).below_recommended);
  guard.set_max_size_bytes(0);  // unlimited: no recommendation
  EXPECT_FALSE(guard.Feed({kGB + 1, 100 * kGB}).below_recommended);
}

TEST(StorageCapTest, StopsHalfwayToTheHardLimitAndResumesAtMaxSize) {
  StorageCap cap(10 * kMB, 20 * kMB);
  EXPECT_EQ(cap.pause_bytes(), 15 * kMB);
  EXPECT_TRUE(cap.Feed(12 * kMB));  // over maxSizeMB: cleanup's business
  EXPECT_FALSE(cap.Feed(15 * kMB));
  EXPECT_FALSE(cap.Feed(11 * kMB));  // cleanup under way: still stopped
  EXPECT_TRUE(cap.Feed(10 * kMB));
  EXPECT_TRUE(cap.Feed(14 * kMB));
}

// The writer found the file at the pause size first (DiskGateSink): the
// cap stops until maxSizeMB, as if it had seen it itself.
TEST(StorageCapTest, StopFromTheWriterHoldsUntilMaxSize) {
  StorageCap cap(10 * kMB, 20 * kMB);
  cap.Stop();
  EXPECT_FALSE(cap.Feed(14 * kMB)) << "under the pause size, but stopped";
  EXPECT_TRUE(cap.Feed(10 * kMB));
  StorageCap unlimited(0, 0);
  unlimited.Stop();
  EXPECT_TRUE(unlimited.writing()) << "no limit: nothing stops";
}

TEST(StorageCapTest, NoLimitNeverStops) {
  EXPECT_TRUE(StorageCap(0, 20 * kMB).Feed(100 * kGB));
  EXPECT_TRUE(StorageCap(10 * kMB, 0).Feed(100 * kGB));
  EXPECT_TRUE(StorageCap(10 * kMB, 10 * kMB).Feed(100 * kGB));
}

TEST(DiskSpaceTest, MeasuresARealFileSystem) {
  Result<DiskSpace> space = MeasureDiskSpace("/tmp");
  ASSERT_TRUE(space.ok()) << space.status().message();
  EXPECT_GT(space->total_bytes, 0);
  EXPECT_LE(space->free_bytes, space->total_bytes);
  EXPECT_EQ(MeasureDiskSpace("/no/such/dir").status().code(), StatusCode::kNotFound);
}

TypedEvent FileWrite(uint64_t serial) {
  TypedEvent e;
  e.header.time_ms = 1700000000000 + static_cast<int64_t>(serial);
  e.header.serial = serial;
  e.subject.pid = 4242;
  e.subject.exe = "/usr/bin/filler";
  FileEvent f;
  // Distinct long paths: every event takes new pages.
  f.path =
      "/var/tmp/" + std::string(300, 'a' + static_cast<char>(serial % 26)) + std::to_string(serial);
  e.body = f;
  return e;
}

int64_t CountFileRows(const std::string& path) {
  return ScalarInt(path, "SELECT count(*) FROM file_data");
}

TEST(DiskGateSinkTest, AFullDatabaseDropsCountsAndResumes) {
  TempDir dir;
  const std::string path = dir.File("monitor.db");
  store::EventStoreOptions options;
  options.batch_max_rows = 40;
  Result<std::unique_ptr<store::EventStore>> opened = store::EventStore::Open(path, options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store::EventStore* store = opened->get();
  ASSERT_TRUE(store->BeginRun("test", 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  // The file may grow by a few pages only: SQLITE_FULL, as on a full disk.
  ASSERT_TRUE(store->database()->Exec("PRAGMA max_page_count = 200").ok());

  DiskGateSink gate(store);
  uint64_t serial = 1;
  uint64_t given = 0;
  for (int batch = 0; batch < 200 && gate.writing(); ++batch) {
    EventBatch events;
    for (int i = 0; i < 25; ++i) events.push_back(FileWrite(serial++));
    given += events.size();
    ASSERT_TRUE(gate.Consume(&events).ok());
  }
  ASSERT_FALSE(gate.writing()) << "the database never filled up";
  EXPECT_TRUE(gate.TakeFull());
  EXPECT_FALSE(gate.TakeFull());
  EXPECT_GT(gate.dropped(), 0u);
  // While stopped, events are dropped and counted without touching the store.
  EventBatch more;
  for (int i = 0; i < 10; ++i) more.push_back(FileWrite(serial++));
  given += 10;
  ASSERT_TRUE(gate.Consume(&more).ok());
  // A commit that finds the disk full is absorbed too.
  EXPECT_TRUE(gate.Absorb(Status::Error(StatusCode::kNoSpace, "full")).ok());
  EXPECT_EQ(gate.Absorb(Status::Error(StatusCode::kIo, "broken")).code(), StatusCode::kIo);

  // Space is back: writing resumes in the same store.
  ASSERT_TRUE(store->database()->Exec("PRAGMA max_page_count = 1000000").ok());
  gate.set_writing(true);
  for (int batch = 0; batch < 4; ++batch) {
    EventBatch events;
    for (int i = 0; i < 25; ++i) events.push_back(FileWrite(serial++));
    given += events.size();
    ASSERT_TRUE(gate.Consume(&events).ok());
  }
  ASSERT_TRUE(gate.Flush().ok());
  EXPECT_TRUE(gate.writing());
  // Every event given is either stored or counted as dropped.
  EXPECT_EQ(static_cast<uint64_t>(CountFileRows(path)) + gate.dropped(), given);
  EXPECT_GT(CountFileRows(path), 100);
}

// Between the daemon's size checks the writer stops by itself once the
// file and its -wal reach the pause size, and says so once.
TEST(DiskGateSinkTest, TheWriterStopsAtThePauseSize) {
  TempDir dir;
  const std::string path = dir.File("monitor.db");
  Result<std::unique_ptr<store::EventStore>> opened = store::EventStore::Open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store::EventStore* store = opened->get();
  ASSERT_TRUE(store->BeginRun("test", 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  struct stat db {};
  ASSERT_EQ(stat(path.c_str(), &db), 0);

  DiskGateSink gate(store);
  gate.set_db_path(path);
  gate.set_pause_bytes(db.st_size + (64 << 20));  // far away: writes
  uint64_t serial = 1;
  EventBatch events;
  events.push_back(FileWrite(serial++));
  ASSERT_TRUE(gate.Consume(&events).ok());
  EXPECT_TRUE(gate.writing());
  EXPECT_FALSE(gate.TakeSizeStop());
  EXPECT_EQ(gate.dropped(), 0u);

  gate.set_pause_bytes(db.st_size);  // reached
  events.clear();
  events.push_back(FileWrite(serial++));
  ASSERT_TRUE(gate.Consume(&events).ok());
  EXPECT_FALSE(gate.writing());
  EXPECT_EQ(gate.dropped(), 1u);
  EXPECT_TRUE(gate.TakeSizeStop());
  EXPECT_FALSE(gate.TakeSizeStop());
  // No pause size (no hard limit): never stops for size.
  gate.set_pause_bytes(0);
  gate.set_writing(true);
  events.clear();
  events.push_back(FileWrite(serial++));
  ASSERT_TRUE(gate.Consume(&events).ok());
  EXPECT_TRUE(gate.writing());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(CountFileRows(path), 2);
}

}  // namespace
}  // namespace recorder::daemon
