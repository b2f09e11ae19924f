// SQLiteChunkSizeMB: the database file grows in whole chunks, through the
// store's connection and the background checkpointer's, and the daemon's
// chunk never exceeds a tenth of maxSizeMB.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

#include "daemon/limit_tasks.h"
#include "store/event_store.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

constexpr int64_t kChunk = int64_t{1} << 20;
constexpr int64_t kT0 = 1700000000123;

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// Opens a store, writes a run row and closes it (the last close copies
// the WAL into the file); the file's size after that.
int64_t SizeAfterOneWrite(const std::string& path, int64_t chunk_bytes) {
  EventStoreOptions options;
  options.chunk_size_bytes = chunk_bytes;
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path, options);
  EXPECT_TRUE(store.ok()) << store.status().message();
  if (!store.ok()) return -1;
  EXPECT_TRUE((*store)->BeginRun("test", kT0).ok());
  EXPECT_TRUE((*store)->Flush().ok());
  store->reset();
  return FileSize(path);
}

TEST(ChunkSizeTest, FileGrowsInWholeChunks) {
  TempDir dir;
  const int64_t plain = SizeAfterOneWrite(dir.File("plain.db"), 0);
  const int64_t chunked = SizeAfterOneWrite(dir.File("chunked.db"), kChunk);
  // A fresh database is a few pages; with the chunk it is one whole chunk.
  EXPECT_GT(plain, 0);
  EXPECT_LT(plain, kChunk);
  EXPECT_EQ(chunked, kChunk);
}

TEST(ChunkSizeTest, BackgroundCheckpointerGrowsInChunksToo) {
  TempDir dir;
  const std::string path = dir.File("monitor.db");
  EventStoreOptions options;
  options.chunk_size_bytes = kChunk;
  options.background_checkpoint = true;
  options.checkpointer.interval_ms = 20;
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path, options);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ASSERT_TRUE((*store)->BeginRun("test", kT0).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  // The checkpointer thread, not a close, copies the pages into the file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*store)->checkpoint_stats().thread.frames_checkpointed == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GT((*store)->checkpoint_stats().thread.frames_checkpointed, 0u);
  const int64_t size = FileSize(path);
  EXPECT_GT(size, 0);
  EXPECT_EQ(size % kChunk, 0) << size;
}

TEST(ChunkSizeTest, DaemonCapsTheChunkAtATenthOfMaxSize) {
  config::RecorderConfig config;  // 100 MB of 1024 MB: as configured
  EXPECT_EQ(daemon::ChunkSizeBytesFor(config), 100 * kBytesPerMB);
  config.max_size_mb = 10;
  EXPECT_EQ(daemon::ChunkSizeBytesFor(config), kBytesPerMB);
  config.max_size_mb = 0;  // unlimited: no cap
  EXPECT_EQ(daemon::ChunkSizeBytesFor(config), 100 * kBytesPerMB);
  config.sqlite_chunk_size_mb = 0;
  EXPECT_EQ(daemon::ChunkSizeBytesFor(config), 0);
}

}  // namespace
}  // namespace recorder::store
