// A live run that ends on an error says which in its `runs` row
// (runs.error; daemon/run_report.h lists the endings that are errors):
//   - the source fails: `recorder run --source plugin` whose stdin is a
//     directory — poll says readable, read() fails with EISDIR;
//   - the store fails: another connection holds the database's write lock
//     longer than the store's busy timeout, so the recorder cannot begin a
//     transaction; the lock is released once the recorder gave up, so its
//     shutdown can write the row.
// Both runs exit non-zero and remove their rules.
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kSourceKey[] = "recorder-srcfailtest";
constexpr char kStoreKey[] = "recorder-storefailtest";

// fork/exec `argv` with stdin from `stdin_path` (opened read-only: a
// directory too) and stdout/stderr appended to `log_path`.
pid_t SpawnWithStdin(const std::vector<std::string>& argv, const std::string& stdin_path,
                     const std::string& log_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(stdin_path.c_str(), O_RDONLY);
    int out = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string RunsError(const std::string& db_path) {
  Db db(db_path);
  std::vector<std::vector<std::string>> rows = db.Query("SELECT error FROM runs");
  if (rows.size() != 1) return "<" + std::to_string(rows.size()) + " runs>";
  return rows[0][0];
}

TEST(LiveRunError, ASourceThatFailsIsTheRunsError) {
  std::string skip = LiveSkipReason(kSourceKey, /*needs_free_pid=*/true);
  if (!skip.empty()) GTEST_SKIP() << skip;
  AuditStateGuard guard(kSourceKey);
  TempDir temp;
  fs::create_directories(temp.path() + "/config");
  const std::string db = temp.path() + "/monitor.db";
  const std::string log = temp.path() + "/recorder.log";
  pid_t recorder = SpawnWithStdin({RECORDER_BINARY, "run", "--source", "plugin", "--db", db,
                                   "--state-dir", temp.path() + "/state", "--rule-key", kSourceKey,
                                   "--config", temp.path() + "/config", "--no-live-line"},
                                  temp.path(), log);
  ASSERT_GT(recorder, 0);
  guard.Adopt(recorder);
  const int exit_code = WaitExit(recorder, 30s);
  guard.Forget(recorder);
  const std::string text = RunCapture("cat " + log);
  EXPECT_EQ(exit_code, 1) << text;
  EXPECT_EQ(CountRulesWithKey(kSourceKey), 0);
  const std::string error = RunsError(db);
  EXPECT_EQ(error.rfind("source failed: ", 0), 0u) << error << "\n" << text;
  EXPECT_NE(error.find("Is a directory"), std::string::npos) << error;
}

class LiveStoreFailure : public UnicastRecorderTest {
 protected:
  LiveStoreFailure() : UnicastRecorderTest(kStoreKey) {}
};

TEST_F(LiveStoreFailure, ADatabaseThatRefusesWritesIsTheRunsError) {
  pid_t recorder = StartRecorder();
  ASSERT_FALSE(Db(DbPath()).Await("SELECT run_id FROM runs").empty()) << ReadLog();

  // Another writer takes the write lock and keeps it past the store's
  // busy timeout: the recorder's next transaction cannot begin.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(DbPath().c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 10'000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(lock);
  // Execs give the recorder events to write (the machine's own may not).
  const bool gave_up = WaitFor(
      [&] {
        if (ReadLog().find("recording stopped:") != std::string::npos) return true;
        RunProgram({"/bin/true"});
        return false;
      },
      40s);
  sqlite3_exec(lock, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  EXPECT_TRUE(gave_up) << ReadLog();

  const int exit_code = WaitExit(recorder, 30s);
  guard_->Forget(recorder);
  EXPECT_EQ(exit_code, 1) << ReadLog();
  EXPECT_EQ(CountRulesWithKey(kStoreKey), 0);
  const std::string error = RunsError(DbPath());
  EXPECT_EQ(error.rfind("writing events failed: ", 0), 0u) << error << "\n" << ReadLog();
  EXPECT_NE(error.find("locked"), std::string::npos) << error;
}

}  // namespace
}  // namespace recorder
