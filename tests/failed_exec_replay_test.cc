// Failed execs end to end: a hand-written audit log in the shape of the
// real captures (tests/data: `success=no exit=-2`, a PATH item of
// nametype UNKNOWN, the caller's PROCTITLE) -> `recorder replay` -> the
// rows of monitor.db. A failed exec is a row of `failed_execs` linked to
// its caller, never a process; a PATH search's misses are counted on the
// exec that ended it; a real failure stands out.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "db_query.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace {

using recorder::Query;
using recorder::RecorderRun;
using recorder::Row;
using recorder::RunRecorder;
using recorder::Scalar;
using recorder::TempDir;
// Shell quoting (run_command.h) under the short name these tests use.
constexpr auto Quote = &recorder::ShellQuote;

// One audit event's lines: a SYSCALL record of `pid` plus `records`
// ("TYPE fields"), all stamped `stamp` ("SEC.MSEC:SERIAL").
std::string Event(const std::string& stamp, const std::string& syscall, int pid, int ppid,
                  const std::string& comm, const std::string& exe,
                  const std::vector<std::string>& records) {
  const std::string head = "msg=audit(" + stamp + "): ";
  std::string out = "type=SYSCALL " + head + "arch=c000003e " + syscall +
                    " a0=55d0 a1=55e0 a2=55f0 a3=0 items=1 ppid=" + std::to_string(ppid) +
                    " pid=" + std::to_string(pid) +
                    " auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 "
                    "sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"" +
                    comm + "\" exe=\"" + exe + "\" key=(null)\n";
  for (const std::string& r : records) {
    const size_t space = r.find(' ');
    out += "type=" + r.substr(0, space) + " " + head + r.substr(space + 1) + "\n";
  }
  return out;
}

std::string Path(const std::string& name, const std::string& nametype) {
  return "PATH item=0 name=\"" + name + "\" nametype=" + nametype +
         " cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0";
}

constexpr const char* kOk = "syscall=59 success=yes exit=0";
constexpr const char* kEnoent = "syscall=59 success=no exit=-2";
constexpr const char* kEacces = "syscall=59 success=no exit=-13";
constexpr const char* kBashTitle = "PROCTITLE proctitle=2D62617368";   // "-bash"
constexpr const char* kEnvTitle = "PROCTITLE proctitle=656E76006C73";  // "env\0ls"

// A login shell (pid 5000); `exec /usr/local/bin/nosuch` in it (ENOENT, no
// exec after: a real failure); `env ls` (pid 5002) searching PATH: three
// misses, then /usr/bin/ls; a python child (pid 5003) whose exec of a
// relative, non-executable script fails with EACCES.
std::string HandLog() {
  std::string log;
  log += Event("1700000000.100:100", kOk, 5000, 1, "bash", "/usr/bin/bash",
               {"EXECVE argc=1 a0=\"-bash\"", "CWD cwd=\"/home/u\"", Path("/bin/bash", "NORMAL"),
                kBashTitle});
  log += Event("1700000001.000:101", kEnoent, 5000, 1, "bash", "/usr/bin/bash",
               {"CWD cwd=\"/home/u\"", Path("/usr/local/bin/nosuch", "UNKNOWN"), kBashTitle});
  log += Event("1700000002.000:102", kOk, 5002, 5000, "env", "/usr/bin/env",
               {"EXECVE argc=2 a0=\"env\" a1=\"ls\"", "CWD cwd=\"/home/u\"",
                Path("/usr/bin/env", "NORMAL"), kEnvTitle});
  int serial = 103;
  for (const char* dir : {"/usr/local/sbin/", "/usr/local/bin/", "/usr/sbin/"}) {
    log += Event("1700000002.010:" + std::to_string(serial++), kEnoent, 5002, 5000, "env",
                 "/usr/bin/env",
                 {"CWD cwd=\"/home/u\"", Path(std::string(dir) + "ls", "UNKNOWN"), kEnvTitle});
  }
  log += Event("1700000002.011:106", kOk, 5002, 5000, "ls", "/usr/bin/ls",
               {"EXECVE argc=1 a0=\"ls\"", "CWD cwd=\"/home/u\"", Path("/usr/bin/ls", "NORMAL"),
                "PROCTITLE proctitle=6C73"});
  log += Event("1700000002.020:107", "syscall=231 a0=0", 5002, 5000, "ls", "/usr/bin/ls",
               {"PROCTITLE proctitle=6C73"});
  log += Event(
      "1700000003.000:108", kEacces, 5003, 5000, "python3", "/usr/bin/python3.11",
      {"CWD cwd=\"/tmp\"", Path("./noexec.sh", "NORMAL"), "PROCTITLE proctitle=707974686F6E33"});
  return log;
}

class FailedExecReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(log_) << HandLog();
    RecorderRun replay = RunRecorder("replay --db " + Quote(db_) + " " + Quote(log_));
    ASSERT_EQ(replay.exit_code, 0) << replay.text;
    ASSERT_NE(replay.text.find("malformed lines: 0"), std::string::npos) << replay.text;
  }
  TempDir dir_;
  std::string log_ = dir_.File("hand.log");
  std::string db_ = dir_.File("monitor.db");
};

TEST_F(FailedExecReplayTest, AFailedExecIsARowOfItsCallerNotAProcess) {
  // Three execs succeeded: bash, env, ls. Nothing else is a process that ran.
  EXPECT_EQ(Scalar(db_,
                   "SELECT group_concat(exe, ' ') FROM (SELECT exe FROM processes "
                   "WHERE placeholder = 0 ORDER BY process_id)"),
            "/usr/bin/bash /usr/bin/env /usr/bin/ls");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM processes WHERE success = 0"), "0");

  // The shell's row is the one of its own exec, unchanged.
  std::vector<Row> shell = Query(db_, "SELECT * FROM processes WHERE pid = 5000");
  ASSERT_EQ(shell.size(), 1u);
  EXPECT_EQ(shell[0].at("argv"), R"(["-bash"])");
  EXPECT_EQ(shell[0].at("exe"), "/usr/bin/bash");
  EXPECT_EQ(shell[0].at("start_time"), "1700000000100");
  EXPECT_EQ(shell[0].at("end_time"), "NULL");
  EXPECT_EQ(shell[0].at("success"), "1");

  std::vector<Row> nosuch = Query(db_, "SELECT * FROM failed_execs WHERE pid = 5000");
  ASSERT_EQ(nosuch.size(), 1u);
  const Row& f = nosuch[0];
  EXPECT_EQ(f.at("process_id"), shell[0].at("process_id"));
  EXPECT_EQ(f.at("time"), "1700000001000");
  EXPECT_EQ(f.at("time_utc"), "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(f.at("exe"), "/usr/bin/bash");
  EXPECT_EQ(f.at("path"), "/usr/local/bin/nosuch");
  EXPECT_EQ(f.at("error"), "ENOENT");
  EXPECT_EQ(f.at("errno"), "2");
  EXPECT_EQ(f.at("cwd"), "/home/u");
  EXPECT_EQ(f.at("uid"), "1000");
}

TEST_F(FailedExecReplayTest, APathSearchIsCountedOnTheExecThatEndedIt) {
  std::vector<Row> ls = Query(db_, "SELECT * FROM processes WHERE exe = '/usr/bin/ls'");
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_EQ(ls[0].at("path_search_attempts"), "3");
  EXPECT_EQ(ls[0].at("cmdline"), "ls");
  EXPECT_EQ(ls[0].at("exit_code"), "0");
  EXPECT_EQ(Scalar(db_, "SELECT path_search_attempts FROM processes WHERE exe = '/usr/bin/env'"),
            "0");
  EXPECT_EQ(Scalar(db_, "SELECT count(*) FROM failed_execs WHERE pid = 5002"), "0");
}

TEST_F(FailedExecReplayTest, ARealFailureStandsOut) {
  std::vector<Row> denied = Query(db_, "SELECT * FROM failed_execs WHERE error = 'EACCES'");
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0].at("pid"), "5003");
  EXPECT_EQ(denied[0].at("errno"), "13");
  EXPECT_EQ(denied[0].at("path"), "/tmp/noexec.sh");      // made absolute against the cwd
  EXPECT_EQ(denied[0].at("exe"), "/usr/bin/python3.11");  // the caller
  // Its caller had no exec seen: a placeholder row, as for any event.
  EXPECT_EQ(Scalar(db_, "SELECT placeholder FROM processes WHERE process_id = " +
                            denied[0].at("process_id")),
            "1");
  EXPECT_EQ(Scalar(db_, "SELECT failed_execs || '/' || process_starts FROM runs"), "2/3");
}

TEST_F(FailedExecReplayTest, ReplayingAgainAddsNothing) {
  const std::string sql =
      "SELECT (SELECT count(*) FROM failed_execs) || '/' || (SELECT count(*) FROM processes)";
  const std::string before = Scalar(db_, sql);
  RecorderRun replay = RunRecorder("replay --db " + Quote(db_) + " " + Quote(log_));
  ASSERT_EQ(replay.exit_code, 0) << replay.text;
  EXPECT_EQ(Scalar(db_, sql), before);
  EXPECT_EQ(Scalar(db_, "SELECT failed_execs FROM runs WHERE run_id = 2"), "0");
}

}  // namespace
