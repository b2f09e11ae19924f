// Status codes: the code each kind of failure carries, from real failures
// where the machine can produce them (a file that exists, a missing
// directory, a file that is not a database, a damaged one, a locked one),
// so a caller may branch on code() instead of the message.
#include "util/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "rules/audit_control.h"
#include "rules/audit_rule.h"
#include "source/line_reader.h"
#include "store/event_store.h"
#include "store/sqlite_db.h"
#include "temp_dir.h"
#include "util/file_util.h"

namespace recorder {

namespace {

using ::testing::HasSubstr;

TEST(StatusTest, OkHasNoCodeAndNoMessage) {
  Status ok = Status::Ok();
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.code(), StatusCode::kOk);
  EXPECT_EQ(ok.message(), "");
  Result<int> value = 7;
  EXPECT_EQ(value.status().code(), StatusCode::kOk);
}

TEST(StatusTest, ErrorWithoutACodeIsUnknown) {
  Status error = Status::Error("something broke");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.code(), StatusCode::kUnknown);
  EXPECT_EQ(Status::Errorf("{} broke", "it").code(), StatusCode::kUnknown);
}

TEST(StatusTest, ErrorKeepsItsCodeThroughResult) {
  Status busy = Status::Errorf(StatusCode::kBusy, "{} is locked", "monitor.db");
  EXPECT_FALSE(busy.ok());
  EXPECT_EQ(busy.code(), StatusCode::kBusy);
  EXPECT_EQ(busy.message(), "monitor.db is locked");
  Result<int> failed = busy;
  EXPECT_EQ(failed.status().code(), StatusCode::kBusy);
  // An error cannot claim kOk: ok() would then disagree with code().
  Status odd = Status::Error(StatusCode::kOk, "failed");
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.code(), StatusCode::kUnknown);
}

TEST(StatusTest, ErrnoCodes) {
  EXPECT_EQ(StatusCodeFromErrno(EEXIST), StatusCode::kExists);
  EXPECT_EQ(StatusCodeFromErrno(-EEXIST), StatusCode::kExists);  // libaudit's sign
  EXPECT_EQ(StatusCodeFromErrno(ENOENT), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeFromErrno(EPERM), StatusCode::kPermission);
  EXPECT_EQ(StatusCodeFromErrno(EACCES), StatusCode::kPermission);
  EXPECT_EQ(StatusCodeFromErrno(EBUSY), StatusCode::kBusy);
  EXPECT_EQ(StatusCodeFromErrno(EINVAL), StatusCode::kInvalid);
  EXPECT_EQ(StatusCodeFromErrno(ENOSPC), StatusCode::kNoSpace);
  EXPECT_EQ(StatusCodeFromErrno(EDQUOT), StatusCode::kNoSpace);
  EXPECT_EQ(StatusCodeFromErrno(EIO), StatusCode::kIo);
  EXPECT_EQ(StatusCodeFromErrno(EPROTONOSUPPORT), StatusCode::kUnavailable);
}

TEST(StatusTest, RealExistsFromTheSystem) {
  TempDir dir;
  ASSERT_NE(mkdir(dir.path().c_str(), 0700), 0);
  Status status = Status::FromErrno(errno, "mkdir " + dir.path());
  EXPECT_EQ(status.code(), StatusCode::kExists);
  EXPECT_EQ(status.message(), "mkdir " + dir.path() + ": File exists");
}

TEST(StatusTest, MissingFilesAreNotFound) {
  TempDir dir;
  Result<std::unique_ptr<LineReader>> reader = LineReader::Open(dir.File("no-such.log"));
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(reader.status().message(), HasSubstr("No such file or directory"));

  Status written = WriteFileAtomically(dir.File("no/such/dir/state.json"), "{}");
  EXPECT_EQ(written.code(), StatusCode::kNotFound) << written.message();

  // A directory given as a log is a wrong argument, not a missing file.
  EXPECT_EQ(LineReader::Open(dir.path()).status().code(), StatusCode::kInvalid);
}

TEST(StatusTest, WriteFileAtomicallyWritesAndReplaces) {
  TempDir dir;
  const std::string path = dir.File("state.json");
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second").ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

// ---------------------------------------------------------------------
// SQLite

std::unique_ptr<store::Database> OpenDb(const std::string& path,
                                        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
  Result<std::unique_ptr<store::Database>> db = store::Database::Open(path, flags);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

TEST(SqliteStatusTest, FileThatIsNotADatabaseIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  std::ofstream(path) << std::string(4096, 'x');
  // SQLite opens lazily: the first read finds out.
  std::unique_ptr<store::Database> db = OpenDb(path);
  ASSERT_TRUE(db);
  Result<int64_t> version = db->QueryInt("PRAGMA user_version");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.status().code(), StatusCode::kCorrupt) << version.status().message();
  db.reset();

  // And through the store, which names the file.
  auto opened = store::EventStore::Open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kCorrupt) << opened.status().message();
  EXPECT_THAT(opened.status().message(), HasSubstr(path));
}

TEST(SqliteStatusTest, DamagedDatabaseIsCorrupt) {
  TempDir dir;
  const std::string path = dir.File("damaged.db");
  {
    std::unique_ptr<store::Database> db = OpenDb(path);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->Exec("PRAGMA page_size=4096; CREATE TABLE t(x TEXT);"
                         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                         "WHERE i < 2000) INSERT INTO t SELECT printf('row %d', i) FROM n")
                    .ok());
  }
  // Overwrite the pages after the first (the table's b-tree) with noise;
  // the header on page 1 stays valid, so the file still opens.
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    const std::string noise(8 * 4096, '\x5a');
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
    ASSERT_TRUE(file.good());
  }
  std::unique_ptr<store::Database> db = OpenDb(path);
  ASSERT_TRUE(db);
  Result<int64_t> rows = db->QueryInt("SELECT count(*) FROM t WHERE x LIKE 'row%'");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().code(), StatusCode::kCorrupt) << rows.status().message();
}

TEST(SqliteStatusTest, LockedDatabaseIsBusy) {
  TempDir dir;
  const std::string path = dir.File("locked.db");
  std::unique_ptr<store::Database> holder = OpenDb(path);
  std::unique_ptr<store::Database> other = OpenDb(path);
  ASSERT_TRUE(holder && other);
  ASSERT_TRUE(holder->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)").ok());
  store::Transaction held(holder.get());
  ASSERT_TRUE(held.Begin().ok());
  sqlite3_busy_timeout(other->handle(), 0);  // fail now rather than wait
  store::Transaction waiting(other.get());
  Status begun = waiting.Begin();
  ASSERT_FALSE(begun.ok());
  EXPECT_EQ(begun.code(), StatusCode::kBusy) << begun.message();
}

TEST(SqliteStatusTest, OpenFailuresSayWhy) {
  TempDir dir;
  // Without SQLITE_OPEN_CREATE a missing file is not found...
  auto missing = store::Database::Open(dir.File("absent.db"), SQLITE_OPEN_READWRITE);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().message();
  // ... and so is a missing directory, through the store too.
  auto no_dir = store::EventStore::Open(dir.File("no/such/dir/monitor.db"));
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.status().code(), StatusCode::kNotFound) << no_dir.status().message();
}

TEST(SqliteStatusTest, WritesThroughAReadOnlyConnectionAreRefused) {
  TempDir dir;
  const std::string path = dir.File("ro.db");
  {
    std::unique_ptr<store::Database> db = OpenDb(path);
    ASSERT_TRUE(db && db->Exec("CREATE TABLE t(x)").ok());
  }
  std::unique_ptr<store::Database> db = OpenDb(path, SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db);
  Status status = db->Exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(status.code(), StatusCode::kPermission) << status.message();
}

TEST(SqliteStatusTest, ConstraintsAndBadSql) {
  TempDir dir;
  std::unique_ptr<store::Database> db = OpenDb(dir.File("c.db"));
  ASSERT_TRUE(db && db->Exec("CREATE TABLE t(x INTEGER PRIMARY KEY, y NOT NULL UNIQUE)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1, 'a')").ok());
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (1, 'b')").code(), StatusCode::kExists);
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (2, 'a')").code(), StatusCode::kExists);
  EXPECT_EQ(db->Exec("INSERT INTO t VALUES (3, NULL)").code(), StatusCode::kInvalid);
  // Prepared statements report the same codes as Exec.
  Result<std::unique_ptr<store::Statement>> insert = db->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(insert.ok());
  (*insert)->BindInt(1, 1);
  (*insert)->BindText(2, "c");
  EXPECT_EQ((*insert)->Run().code(), StatusCode::kExists);
  EXPECT_EQ(db->Prepare("SELEC 1").status().code(), StatusCode::kInvalid);
  EXPECT_EQ(db->Prepare("SELECT * FROM no_such_table").status().code(), StatusCode::kInvalid);
}

// ---------------------------------------------------------------------
// Audit rules against the in-memory kernel: the codes the real kernel's
// errnos give (tests/live_status_test.cc checks the real one).

rules::KernelRule TestRule() {
  rules::RuleSpec spec;
  spec.list = "exit";
  spec.action = "always";
  spec.arch = "b64";
  spec.syscalls = {"sethostname"};
  spec.key = "recorder-status-test";
  Result<rules::KernelRule> rule = rules::BuildKernelRule(spec);
  EXPECT_TRUE(rule.ok()) << rule.status().message();
  return rule.ok() ? *rule : rules::KernelRule();
}

TEST(AuditStatusCodeTest, FakeKernelGivesTheKernelsCodes) {
  rules::FakeAuditControl kernel;
  const rules::KernelRule rule = TestRule();
  ASSERT_TRUE(kernel.AddRule(rule).ok());
  Status again = kernel.AddRule(rule);
  EXPECT_EQ(again.code(), StatusCode::kExists);
  EXPECT_EQ(again.message(), "adding audit rule failed: File exists");
  ASSERT_TRUE(kernel.DeleteRule(rule).ok());
  EXPECT_EQ(kernel.DeleteRule(rule).code(), StatusCode::kNotFound);
  EXPECT_EQ(kernel.SetEnabled(2).code(), StatusCode::kInvalid);
  kernel.status.enabled = 2;  // immutable, in memory only
  EXPECT_EQ(kernel.AddRule(rule).code(), StatusCode::kPermission);
  EXPECT_EQ(kernel.SetBacklogLimit(100).code(), StatusCode::kPermission);
}

TEST(AuditStatusCodeTest, BadRuleSpecsAreInvalid) {
  rules::RuleSpec spec;
  spec.list = "no-such-list";
  spec.action = "always";
  EXPECT_EQ(rules::BuildKernelRule(spec).status().code(), StatusCode::kInvalid);
  spec.list = "exit";
  spec.syscalls = {"no_such_syscall"};
  EXPECT_EQ(rules::BuildKernelRule(spec).status().code(), StatusCode::kInvalid);
}

}  // namespace
}  // namespace recorder
