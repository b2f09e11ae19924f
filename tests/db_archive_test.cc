// Archives of monitor.db (DatabaseArchiveLimit) and the damage check made
// at start, on real files: real SQLite databases, real gzip archives that
// zlib reads back, a real corrupted page.
#include "store/db_archive.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "db_files.h"
#include "store/archive_compressor.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kNoon = 1764936000000;  // 2025-12-05T12:00:00Z

// Every file name in `dir`.
std::vector<std::string> ArchiveFilesForTest(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* entry = readdir(d)) names.emplace_back(entry->d_name);
  closedir(d);
  return names;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DbArchiveTest, AnArchiveHoldsTheDatabaseBytesAndTheDatabaseIsGone) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 50);
  const std::string original = ReadFile(db);
  auto result = ArchiveDatabase(db, kNoon, /*archive_limit=*/3);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->archive, dir.File("monitor.db.archive-20251205T120000.000Z.gz"));
  EXPECT_EQ(Gunzip(result->archive), original);
  EXPECT_EQ(result->bytes_in, original.size());
  struct stat st {};
  ASSERT_EQ(stat(result->archive.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(stat(db.c_str(), &st), 0) << "the database must be gone";
  // The next open starts afresh.
  auto store = EventStore::Open(db);
  ASSERT_TRUE(store.ok());
  auto runs = (*store)->database()->QueryInt("SELECT count(*) FROM runs");
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, 0);
}

TEST(DbArchiveTest, TheLimitKeepsTheNewestArchivesAndErasesTheOldest) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  std::vector<std::string> made;
  for (int i = 0; i < 4; ++i) {
    MakeDatabase(db, 1 + i);
    auto result = ArchiveDatabase(db, kNoon + i * 60000, /*archive_limit=*/2);
    ASSERT_TRUE(result.ok()) << result.status().message();
    made.push_back(result->archive);
    if (i >= 2) {
      ASSERT_THAT(result->erased, SizeIs(1));
      EXPECT_EQ(result->erased[0], made[i - 2]);
    }
  }
  EXPECT_EQ(ListArchives(db), (std::vector<std::string>{made[2], made[3]}));
}

TEST(DbArchiveTest, LimitZeroTheManualsDefaultKeepsNoArchive) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 3);
  auto result = ArchiveDatabase(db, kNoon, kDefaultDatabaseArchiveLimit);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->archive, "");
  EXPECT_TRUE(ListArchives(db).empty());
  struct stat st {};
  EXPECT_NE(stat(db.c_str(), &st), 0);
}

TEST(DbArchiveTest, OtherDatabasesArchivesAreNotCountedOrErased) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  std::ofstream(dir.File("other.db.archive-20200101T000000.000Z.gz")) << "x";
  MakeDatabase(db, 1);
  ASSERT_TRUE(ArchiveDatabase(db, kNoon, 1).ok());
  MakeDatabase(db, 1);
  ASSERT_TRUE(ArchiveDatabase(db, kNoon + 1000, 1).ok());
  EXPECT_THAT(ListArchives(db), SizeIs(1));
  struct stat st {};
  EXPECT_EQ(stat(dir.File("other.db.archive-20200101T000000.000Z.gz").c_str(), &st), 0);
}

// The two halves of an archive, as a database switch does them: the move
// aside is a rename (the fresh file can be created at once), and the
// compression writes under a temporary name, so a crash in its middle
// leaves the uncompressed archive whole and never a half .gz.
TEST(DbArchiveTest, MovedAsideTheArchiveIsWholeUntilItsCompressionIsRenamedIntoPlace) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 40);
  const std::string original = ReadFile(db);
  auto moved = MoveAsideForArchive(db, kNoon);
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(*moved, dir.File("monitor.db.archive-20251205T120000.000Z"));
  struct stat st {};
  EXPECT_NE(stat(db.c_str(), &st), 0) << "the path is free for a fresh database";
  EXPECT_EQ(ReadFile(*moved), original);
  // Listed, once, while it waits for its compression.
  EXPECT_EQ(ListArchives(db), std::vector<std::string>{*moved});
  EXPECT_EQ(ListUncompressedArchives(db), std::vector<std::string>{*moved});

  // A compression that a crash cut short: half a stream under the
  // temporary name, which is never listed as an archive.
  std::ofstream(*moved + ".gz.tmp") << "\x1f\x8b half";
  EXPECT_EQ(ListArchives(db), std::vector<std::string>{*moved});
  auto archive = CompressArchive(*moved);
  ASSERT_TRUE(archive.ok()) << archive.status().message();
  EXPECT_EQ(*archive, *moved + ".gz");
  EXPECT_EQ(Gunzip(*archive), original);
  ASSERT_EQ(stat(archive->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(stat(moved->c_str(), &st), 0) << "the uncompressed copy goes once the .gz is whole";
  EXPECT_NE(stat((*moved + ".gz.tmp").c_str(), &st), 0);
  EXPECT_EQ(ListArchives(db), std::vector<std::string>{*archive});
  EXPECT_TRUE(ListUncompressedArchives(db).empty());
}

// The compressor thread: archives added while recording goes on are all
// compressed when Stop returns, the limit applied after each.
TEST(DbArchiveTest, TheCompressorFinishesEveryArchiveAtStopAndKeepsTheLimit) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  ArchiveCompressor compressor;
  std::vector<std::string> moved;
  for (int i = 0; i < 3; ++i) {
    MakeDatabase(db, 2000 + i);
    auto aside = MoveAsideForArchive(db, kNoon + i * 60000);
    ASSERT_TRUE(aside.ok()) << aside.status().message();
    moved.push_back(*aside);
    compressor.Add(*aside, db, /*archive_limit=*/2);
  }
  compressor.Stop();
  EXPECT_EQ(compressor.pending(), 0u);
  EXPECT_EQ(ListArchives(db), (std::vector<std::string>{moved[1] + ".gz", moved[2] + ".gz"}));
  EXPECT_TRUE(ListUncompressedArchives(db).empty());
  EXPECT_TRUE(compressor.TakeErrors().empty());
  const std::vector<ArchiveCompressor::Done> done = compressor.TakeDone();
  ASSERT_THAT(done, SizeIs(3));
  EXPECT_EQ(done[2].archive, moved[2] + ".gz");
  // The oldest goes once, after whichever compression first saw three
  // archives: one counts towards the limit from the moment it is moved
  // aside, which may come before the compressor reaches it.
  std::vector<std::string> erased;
  for (const ArchiveCompressor::Done& d : done)
    erased.insert(erased.end(), d.erased.begin(), d.erased.end());
  EXPECT_EQ(erased, std::vector<std::string>{moved[0] + ".gz"});
  for (const std::string& name : ArchiveFilesForTest(dir.path()))
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
}

TEST(DbArchiveTest, QuickCheckFindsADamagedPageAndPassesASoundDatabase) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  MakeDatabase(db, 2000);
  {
    auto opened = Database::Open(db, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(opened.ok());
    auto check = QuickCheck(opened->get());
    ASSERT_TRUE(check.ok()) << check.status().message();
    EXPECT_EQ(*check, "");
  }
  DamageRunTable(db);
  auto opened = Database::Open(db, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(opened.ok());
  auto check = QuickCheck(opened->get());
  // Damage is either reported by quick_check or stops it: never "sound".
  if (check.ok()) {
    EXPECT_NE(*check, "");
  }
}

}  // namespace
}  // namespace recorder::store
