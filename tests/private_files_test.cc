// Recorded data is private: monitor.db, its -wal and -shm, state files and
// directories the recorder creates are 0600 / 0700 under any umask, and a
// symlinked or foreign database path is refused. Real files, real SQLite,
// and the real binary for the end-to-end case.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "store/event_store.h"
#include "temp_dir.h"
#include "util/file_util.h"

namespace recorder {
namespace {

using ::testing::HasSubstr;

// Sets the umask for one test and puts the old one back.
class UmaskGuard {
 public:
  explicit UmaskGuard(mode_t mask) : old_(umask(mask)) {}
  ~UmaskGuard() { umask(old_); }

 private:
  mode_t old_;
};

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return 01000;  // "missing": never a valid mode
  return st.st_mode & 07777;
}

TEST(PrivateFilesTest, TheStoreCreatesTheDatabaseAndItsWalAndShmPrivateUnderUmaskZero) {
  TempDir dir;
  UmaskGuard mask(0);
  const std::string db = dir.File("monitor.db");
  auto store = store::EventStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().message();
  // A write makes SQLite create the WAL and its index.
  auto run = (*store)->BeginRun("test", 1700000000000);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ(ModeOf(db), 0600u);
  EXPECT_EQ(ModeOf(db + "-wal"), 0600u);
  EXPECT_EQ(ModeOf(db + "-shm"), 0600u);
}

TEST(PrivateFilesTest, AnOlderWorldReadableDatabaseIsTightenedOnOpen) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  {
    auto store = store::EventStore::Open(db);
    ASSERT_TRUE(store.ok());
  }
  ASSERT_EQ(chmod(db.c_str(), 0644), 0);
  auto store = store::EventStore::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(ModeOf(db), 0600u);
}

TEST(PrivateFilesTest, ASymlinkedDatabasePathIsRefusedAndItsTargetUntouched) {
  TempDir dir;
  const std::string target = dir.File("elsewhere.db");
  const std::string link = dir.File("monitor.db");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  auto store = store::EventStore::Open(link);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(link));
  EXPECT_THAT(store.status().message(), HasSubstr("symbolic link"));
  EXPECT_EQ(ModeOf(target), 01000u) << "the link's target must not be created";
}

TEST(PrivateFilesTest, AnotherUsersFileIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  std::ofstream{db};
  ASSERT_EQ(chown(db.c_str(), 65534, 65534), 0);
  auto store = store::EventStore::Open(db);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("belongs to uid 65534"));
}

TEST(PrivateFilesTest, StateFilesAreWrittenPrivateAndNeverThroughASymlink) {
  TempDir dir;
  UmaskGuard mask(0);
  const std::string state = dir.File("state.json");
  ASSERT_TRUE(WriteFileAtomically(state, "{}").ok());
  EXPECT_EQ(ModeOf(state), 0600u);
  // A planted link at the temporary name is replaced, not followed.
  const std::string victim = dir.File("victim");
  std::ofstream(victim) << "keep";
  ASSERT_EQ(symlink(victim.c_str(), (state + ".tmp").c_str()), 0);
  ASSERT_TRUE(WriteFileAtomically(state, "{\"a\":1}").ok());
  std::ifstream in(victim);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "keep");
  // The file itself as a link is refused.
  const std::string linked = dir.File("linked.json");
  ASSERT_EQ(symlink(victim.c_str(), linked.c_str()), 0);
  EXPECT_FALSE(WriteFileAtomically(linked, "{}").ok());
}

TEST(PrivateFilesTest, DirectoriesAreCreated0700UnderUmaskZero) {
  TempDir dir;
  UmaskGuard mask(0);
  const std::string nested = dir.File("a/b/c");
  ASSERT_TRUE(CreatePrivateDirectories(nested).ok());
  EXPECT_EQ(ModeOf(dir.File("a")), 0700u);
  EXPECT_EQ(ModeOf(nested), 0700u);
  const std::string file = dir.File("plain");
  std::ofstream{file};
  EXPECT_FALSE(CreatePrivateDirectories(file).ok());
}

TEST(PrivateFilesTest, ReplayUnderUmaskZeroLeavesOnlyPrivateFiles) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  const std::string command = std::string("umask 000 && '") + RECORDER_BINARY + "' replay --db '" +
                              db + "' '" + RECORDER_TEST_DATA + "/capture-raw.log' > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(ModeOf(db), 0600u);
  // The WAL is gone after a clean close, or private while it exists.
  for (const char* suffix : {"-wal", "-shm"}) {
    const unsigned mode = ModeOf(db + suffix);
    EXPECT_TRUE(mode == 01000u || mode == 0600u) << suffix << " mode " << std::oct << mode;
  }
}

}  // namespace
}  // namespace recorder
