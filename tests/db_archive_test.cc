// Archives of monitor.db (DatabaseArchiveLimit) and the damage check made
// at start, on real files: real SQLite databases, real gzip archives that
// zlib reads back, a real corrupted page.
#include "store/db_archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "db_files.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kNoon = 1764936000000;  // 2025-12-05T12:00:00Z

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
