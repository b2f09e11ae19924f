// The enrich stage live: `recorder run --source unicast` against the real
// kernel, then a process tree bash -> sh -> echo, checked in monitor.db:
// parent_process_id links each exec to its parent's row, the user name is
// filled, and echo's sha256/md5 arrive (the hash worker's completion
// updates the "pending" row) and equal sha256sum/md5sum of the binary.
//
// Needs root and kernel audit; skips (saying why) otherwise, or when another
// audit daemon or someone's rules are in the way. The guard
// (audit_state_guard.h) restores the audit state as found even when an
// assertion fails: only rules with our key removed, only our own children
// stopped, by pid.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "live_support.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-enrichtest";

// First word of `sha256sum FILE` / `md5sum FILE`.
std::string Digest(const std::string& tool, const std::string& file) {
  std::string out = RunCapture(tool + " " + file);
  return out.substr(0, out.find(' '));
}

class LiveEnrichment : public UnicastRecorderTest {
 protected:
  LiveEnrichment() : UnicastRecorderTest(kTestKey) {}
};

TEST_F(LiveEnrichment, ProcessTreeUserAndHashesReachTheStore) {
  pid_t recorder = StartRecorder();

  // The trailing "; true"s make each shell fork its child instead of
  // exec'ing it as its last command, so there are three processes.
  const std::string marker =
      "enrichmarker-" + std::to_string(getpid()) + "x" +
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  const std::string inner = "sleep 0.1; /bin/echo " + marker + "; true";
  const std::string outer = "sh -c \"" + inner + "\"; true";
  ASSERT_EQ(WaitExit(Spawn({"/bin/bash", "-c", outer}), 20s), 0);

  Db db(DbPath());
  const std::string cols = "process_id, pid, ppid, parent_process_id, exe, cmdline, user";
  std::vector<std::vector<std::string>> echo;
  ASSERT_TRUE(WaitFor(
      [&] {
        echo = db.Query("SELECT " + cols +
                        " FROM processes WHERE exe LIKE '%/echo' AND "
                        "cmdline LIKE '%" +
                        marker + "%'");
        return !echo.empty();
      },
      20s))
      << ReadLog();
  ASSERT_EQ(echo.size(), 1u);
  EXPECT_EQ(echo[0][6], "root");
  EXPECT_EQ(echo[0][5], "/bin/echo " + marker);

  auto row = [&](const std::string& process_id) {
    auto rows = db.Query("SELECT " + cols + " FROM processes WHERE process_id = " + process_id);
    return rows.empty() ? std::vector<std::string>(7, "<none>") : rows[0];
  };
  std::vector<std::string> sh = row(echo[0][3]);
  EXPECT_EQ(sh[1], echo[0][2]) << "echo's parent row is its ppid";
  EXPECT_TRUE(sh[4] == "/usr/bin/dash" || sh[4] == "/bin/dash") << sh[4];
  EXPECT_EQ(sh[5], "sh -c '" + inner + "'");
  std::vector<std::string> bash = row(sh[3]);
  EXPECT_EQ(bash[1], sh[2]) << "sh's parent row is its ppid";
  EXPECT_TRUE(bash[4] == "/usr/bin/bash" || bash[4] == "/bin/bash") << bash[4];
  EXPECT_EQ(bash[5], "/bin/bash -c '" + outer + "'");
  EXPECT_EQ(bash[2], std::to_string(getpid()));
  EXPECT_EQ(bash[6], "root");

  // The hashes: filled at once from the cache, or by the worker's UPDATE.
  std::vector<std::vector<std::string>> hashes;
  EXPECT_TRUE(WaitFor(
      [&] {
        hashes = db.Query("SELECT sha256, md5, hash_note FROM processes WHERE process_id = " +
                          echo[0][0]);
        return !hashes.empty() && hashes[0][0] != "<null>";
      },
      20s))
      << (hashes.empty() ? "no row" : hashes[0][2]);
  ASSERT_FALSE(hashes.empty());
  const std::string echo_file = fs::canonical("/bin/echo").string();
  EXPECT_EQ(hashes[0][0], Digest("sha256sum", echo_file));
  EXPECT_EQ(hashes[0][1], Digest("md5sum", echo_file));
  EXPECT_EQ(hashes[0][2], "<null>");

  StopRecorder(recorder);
  EXPECT_TRUE(fs::exists(StateDir() + "/process_state.jsonl"));
  EXPECT_TRUE(fs::exists(StateDir() + "/image_state.txt"));
  Result<AuditStatus> now = ReadAuditStatus();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->enabled, guard_->before().enabled);
  EXPECT_EQ(now->backlog_limit, guard_->before().backlog_limit);
}

// A restart while a process runs: the process table comes back from the
// state file and the store finds the earlier run's row, so the exit after
// the restart completes that row instead of making a placeholder.
TEST_F(LiveEnrichment, ExitAfterRestartCompletesTheSameProcessRow) {
  pid_t recorder = StartRecorder();

  // A process that runs until the test lets it go, so its exit comes
  // after the restart however slow the host is: head blocks reading a
  // FIFO that only the test writes to. Its path is unique to this test,
  // and so is the command line that finds its row.
  const std::string fifo = temp_.path() + "/release";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  pid_t waiter = Spawn({"/usr/bin/head", "-c1", fifo});
  guard_->Adopt(waiter);
  Db db(DbPath());
  const std::string where =
      "FROM processes WHERE exe LIKE '%/head' AND cmdline = '/usr/bin/head -c1 " + fifo + "'";
  std::vector<std::vector<std::string>> rows;
  ASSERT_TRUE(
      WaitFor([&] { return !(rows = db.Query("SELECT process_id " + where)).empty(); }, 20s));
  const std::string process_id = rows[0][0];

  StopRecorder(recorder);
  ASSERT_TRUE(fs::exists(StateDir() + "/process_state.jsonl"));
  recorder = StartRecorder();

  {
    // Non-blocking: fails (ENXIO) instead of hanging if head is not reading.
    const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0) << "head is not reading " << fifo << ": " << strerror(errno);
    EXPECT_EQ(write(fd, "x", 1), 1);
    close(fd);
  }
  EXPECT_EQ(WaitExit(waiter, 15s), 0);
  guard_->Forget(waiter);
  ASSERT_TRUE(WaitFor(
      [&] {
        rows = db.Query("SELECT process_id, exit_code " + where + " AND end_time IS NOT NULL");
        return !rows.empty();
      },
      20s))
      << ReadLog();
  EXPECT_EQ(rows[0][0], process_id);
  EXPECT_EQ(rows[0][1], "0");
  std::string all;
  for (const auto& r : db.Query("SELECT process_id, exe, start_time, end_time, placeholder FROM "
                                "processes WHERE pid = " +
                                std::to_string(waiter)))
    for (const auto& c : r) all += c + (&c == &r.back() ? "\n" : " ");
  EXPECT_EQ(db.Query("SELECT count(*) " + where)[0][0], "1") << all;
  StopRecorder(recorder);
}

// A child that forks without exec'ing (a bash subshell running a builtin)
// has no exec event of its own; its file event still gets a process row
// whose parent is the bash that forked it.
TEST_F(LiveEnrichment, ForkedChildWithoutExecHasItsParent) {
  pid_t recorder = StartRecorder();
  const std::string file = temp_.path() + "/forked-" + std::to_string(getpid());
  // `( ... )` forks a subshell; `echo` is a builtin, so it never execs.
  pid_t bash = Spawn({"/bin/bash", "-c", "(echo forked > " + file + "); true"});
  ASSERT_EQ(WaitExit(bash, 20s), 0);
  ASSERT_TRUE(fs::exists(file));

  Db db(DbPath());
  std::vector<std::vector<std::string>> rows = db.Await(
      "SELECT p.pid, p.ppid, p.parent_process_id, p.exe, p.placeholder FROM file_events f "
      "JOIN processes p USING (process_id) WHERE f.path = " +
          Quote(file),
      20s);
  ASSERT_FALSE(rows.empty()) << ReadLog();
  EXPECT_NE(rows[0][0], std::to_string(bash)) << "the write came from the forked subshell";
  EXPECT_EQ(rows[0][1], std::to_string(bash));
  EXPECT_EQ(rows[0][4], "1") << "no exec: a row made from the event";
  EXPECT_TRUE(rows[0][3] == "/usr/bin/bash" || rows[0][3] == "/bin/bash") << rows[0][3];
  std::vector<std::vector<std::string>> parent =
      db.Query("SELECT pid, cmdline FROM processes WHERE process_id = " + rows[0][2]);
  ASSERT_EQ(parent.size(), 1u) << "parent_process_id " << rows[0][2] << " has no row";
  EXPECT_EQ(parent[0][0], std::to_string(bash));
  EXPECT_NE(parent[0][1].find("echo forked"), std::string::npos) << parent[0][1];
  StopRecorder(recorder);
}

// Removes the user it created, whatever happens to the test.
class TemporaryUser {
 public:
  explicit TemporaryUser(std::string name) : name_(std::move(name)) {
    created_ = RunProgram({"/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                           "--user-group", name_}) == 0;
  }
  ~TemporaryUser() {
    if (created_) (void)RunProgram({"/usr/sbin/userdel", name_});
  }
  bool created() const { return created_; }

 private:
  std::string name_;
  bool created_ = false;
};

TEST_F(LiveEnrichment, UserCreatedDuringTheRunIsNamed) {
  if (!fs::exists("/usr/sbin/useradd") || !fs::exists("/usr/sbin/runuser"))
    GTEST_SKIP() << "useradd or runuser is not installed";
  pid_t recorder = StartRecorder();
  const std::string name = "rectest" + std::to_string(getpid() % 100000);
  TemporaryUser user(name);
  ASSERT_TRUE(user.created()) << "useradd " << name << " failed";
  std::string uid = RunCapture("id -u " + name);
  while (!uid.empty() && (uid.back() == '\n' || uid.back() == ' ')) uid.pop_back();
  const std::string marker = "usermarker-" + std::to_string(getpid());
  ASSERT_EQ(RunProgram({"/usr/sbin/runuser", "-u", name, "--", "/bin/echo", marker}), 0);

  Db db(DbPath());
  std::vector<std::vector<std::string>> rows =
      db.Await("SELECT uid, user FROM processes WHERE exe LIKE '%/echo' AND cmdline = " +
                   Quote("/bin/echo " + marker),
               20s);
  ASSERT_FALSE(rows.empty()) << ReadLog();
  EXPECT_EQ(rows[0][0], uid);
  EXPECT_EQ(rows[0][1], name);
  StopRecorder(recorder);
}

}  // namespace
}  // namespace recorder
