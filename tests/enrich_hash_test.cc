// Hash cache and worker: digests checked against coreutils' sha256sum and
// md5sum on the same file.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "enrich/hash_cache.h"
#include "enrich/hash_worker.h"
#include "run_command.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

void WriteRandom(const std::string& path, size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// First word of `tool path`'s output.
std::string Coreutils(const std::string& tool, const std::string& path) {
  std::string out = RunCapture(tool + " " + ShellQuote(path));
  return out.substr(0, out.find(' '));
}

TEST(HashFileTest, MatchesSha256sumAndMd5sum) {
  TempDir dir;
  // Larger than one 64 KiB read, and not a multiple of it.
  for (size_t size : {size_t{0}, size_t{1}, size_t{200'001}}) {
    std::string path = dir / fmt::format("file{}", size);
    WriteRandom(path, size, static_cast<unsigned>(size));
    FileKey key;
    FileHashes hashes = HashFile(path, 64 << 20, &key);
    EXPECT_EQ(hashes.note, "");
    EXPECT_EQ(hashes.sha256, Coreutils("sha256sum", path)) << size;
    EXPECT_EQ(hashes.md5, Coreutils("md5sum", path)) << size;
    EXPECT_EQ(key.size, static_cast<int64_t>(size));
  }
}

TEST(HashFileTest, OverCapIsTooLargeAndMissingIsUnreadable) {
  TempDir dir;
  std::string path = dir / "big";
  WriteRandom(path, 2000, 1);
  FileKey key;
  FileHashes hashes = HashFile(path, 1999, &key);
  EXPECT_EQ(hashes.sha256, "");
  EXPECT_EQ(hashes.md5, "");
  EXPECT_EQ(hashes.note, "too large");
  EXPECT_EQ(HashFile(path, 2000, &key).note, "");  // the cap is inclusive
  EXPECT_EQ(HashFile(dir / "missing", 100, &key).note.rfind("unreadable", 0), 0u);
}

TEST(HashWorkerTest, MissQueuesThenHitsCache) {
  TempDir dir;
  std::string path = dir / "prog";
  WriteRandom(path, 100'000, 7);
  HashCache cache;
  HashWorker worker(&cache);
  std::vector<std::string> called;
  worker.SetCompletionCallback([&](const HashCompletion& c) { called.push_back(c.path); });
  worker.Start();

  HashLookup first = worker.Lookup(path);
  EXPECT_EQ(first.state, HashState::kPending);
  EXPECT_EQ(first.hashes.note, "pending");
  ASSERT_TRUE(worker.WaitIdle(10'000));

  HashLookup second = worker.Lookup(path);
  ASSERT_EQ(second.state, HashState::kReady);
  EXPECT_EQ(second.hashes.sha256, Coreutils("sha256sum", path));
  EXPECT_EQ(second.hashes.md5, Coreutils("md5sum", path));

  std::vector<HashCompletion> done = worker.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].path, path);
  EXPECT_EQ(done[0].hashes.sha256, second.hashes.sha256);
  EXPECT_TRUE(worker.TakeCompletions().empty());
  EXPECT_EQ(called, std::vector<std::string>{path});
  HashWorkerStats stats = worker.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.hashed, 1u);
}

TEST(HashWorkerTest, BinaryReplacedInPlaceGetsNewHash) {
  TempDir dir;
  std::string path = dir / "prog";
  WriteRandom(path, 50'000, 1);
  HashCache cache;
  HashWorker worker(&cache);
  worker.Start();
  (void)worker.Lookup(path);
  ASSERT_TRUE(worker.WaitIdle(10'000));
  std::string old_sha = worker.Lookup(path).hashes.sha256;
  ASSERT_FALSE(old_sha.empty());

  // Rewritten in place: same inode, same size, new content and mtime.
  // The mtime is moved on explicitly: a coarse-grained clock can give
  // both writes the same one.
  WriteRandom(path, 50'000, 2);
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(1));
  HashLookup rewritten = worker.Lookup(path);
  EXPECT_EQ(rewritten.state, HashState::kPending);
  ASSERT_TRUE(worker.WaitIdle(10'000));
  std::string new_sha = worker.Lookup(path).hashes.sha256;
  EXPECT_NE(new_sha, old_sha);
  EXPECT_EQ(new_sha, Coreutils("sha256sum", path));

  // Replaced by rename (how package managers do it): a new inode.
  WriteRandom(dir / "prog.new", 50'000, 3);
  fs::rename(dir / "prog.new", path);
  EXPECT_EQ(worker.Lookup(path).state, HashState::kPending);
  ASSERT_TRUE(worker.WaitIdle(10'000));
  EXPECT_EQ(worker.Lookup(path).hashes.sha256, Coreutils("sha256sum", path));
}

TEST(HashWorkerTest, OverCapIsTooLargeWithoutQueueing) {
  TempDir dir;
  std::string path = dir / "huge";
  WriteRandom(path, 4096, 1);
  HashCache cache;
  HashWorkerOptions options;
  options.max_file_bytes = 1024;
  HashWorker worker(&cache, options);
  worker.Start();
  HashLookup lookup = worker.Lookup(path);
  EXPECT_EQ(lookup.state, HashState::kUnavailable);
  EXPECT_EQ(lookup.hashes.note, "too large");
  EXPECT_EQ(lookup.hashes.sha256, "");
  EXPECT_EQ(worker.stats().queued, 0u);
  EXPECT_EQ(worker.Lookup(dir / "missing").hashes.note.rfind("unreadable", 0), 0u);
}

TEST(HashWorkerTest, FullQueueDropsAndCounts) {
  TempDir dir;
  WriteRandom(dir / "a", 10, 1);
  WriteRandom(dir / "b", 10, 2);
  HashCache cache;
  HashWorkerOptions options;
  options.queue_capacity = 1;
  HashWorker worker(&cache, options);  // not started: the queue stays full
  EXPECT_EQ(worker.Lookup(dir / "a").state, HashState::kPending);
  EXPECT_EQ(worker.Lookup(dir / "a").state, HashState::kPending);  // already queued
  HashLookup dropped = worker.Lookup(dir / "b");
  EXPECT_EQ(dropped.state, HashState::kUnavailable);
  EXPECT_EQ(dropped.hashes.note, "queue full");
  EXPECT_EQ(worker.stats().dropped, 1u);
  EXPECT_EQ(worker.stats().queued, 1u);
}

TEST(HashCacheTest, PersistedCacheReloads) {
  TempDir dir;
  std::string path = dir / "prog";
  WriteRandom(path, 30'000, 5);
  const std::string state = dir / "image_state";
  {
    HashCache cache;
    HashWorker worker(&cache);
    worker.Start();
    (void)worker.Lookup(path);
    ASSERT_TRUE(worker.WaitIdle(10'000));
    ASSERT_TRUE(cache.Save(state).ok());
  }
  HashCache reloaded;
  ASSERT_TRUE(reloaded.Load(state).ok());
  EXPECT_EQ(reloaded.size(), 1u);
  HashWorker worker(&reloaded);  // not started: a hit must not need it
  HashLookup hit = worker.Lookup(path);
  ASSERT_EQ(hit.state, HashState::kReady);
  EXPECT_EQ(hit.hashes.sha256, Coreutils("sha256sum", path));
  EXPECT_EQ(hit.hashes.md5, Coreutils("md5sum", path));
}

TEST(HashCacheTest, CorruptFileIsRejected) {
  TempDir dir;
  const std::string state = dir / "image_state";
  auto load = [&](const std::string& text) {
    std::ofstream(state, std::ios::trunc) << text;
    HashCache cache;
    Status status = cache.Load(state);
    EXPECT_EQ(cache.size(), status.ok() ? 1u : 0u);  // all or nothing
    return status.ok();
  };
  const std::string sha(64, 'a'), md5(32, 'b');
  EXPECT_TRUE(load(fmt::format("recorder-hash-cache 1 1\n1 2 3 4 {} {}\n", sha, md5)));
  EXPECT_FALSE(load("garbage\n"));
  EXPECT_FALSE(load(fmt::format("recorder-hash-cache 1 2\n1 2 3 4 {} {}\n", sha, md5)));
  EXPECT_FALSE(load(fmt::format("recorder-hash-cache 1 1\n1 2 3 4 {} zz\n", sha)));
  EXPECT_FALSE(load(fmt::format("recorder-hash-cache 9 1\n1 2 3 4 {} {}\n", sha, md5)));
}

TEST(HashCacheTest, EvictsLeastRecentlyUsed) {
  HashCache cache(2);
  FileKey a{1, 1, 1, 1}, b{1, 2, 1, 1}, c{1, 3, 1, 1};
  cache.Put(a, {"a", "", ""});
  cache.Put(b, {"b", "", ""});
  ASSERT_TRUE(cache.Get(a).has_value());  // a is now the most recent
  cache.Put(c, {"c", "", ""});
  EXPECT_TRUE(cache.Get(a).has_value());
  EXPECT_FALSE(cache.Get(b).has_value());
  EXPECT_TRUE(cache.Get(c).has_value());
}

}  // namespace
}  // namespace recorder::enrich
