// `recorder replay` as users run it: the real binary on the captured
// kernel logs (tests/data), hand-written logs, gzip and stdin input, bad
// inputs and bad database paths, and a reader querying while it writes.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db_query.h"
#include "recorder_cli.h"
#include "run_command.h"
#include "store/string_interner.h"
#include "temp_dir.h"
#include "wait_for.h"

namespace {

using recorder::BlockedReading;
using recorder::CommandResult;
using recorder::FileOfDescriptor;
using recorder::Query;
using recorder::RecorderRun;
using recorder::Row;
using recorder::RunCommand;
using recorder::RunRecorder;
using recorder::Scalar;
using recorder::TempDir;
using recorder::WaitFor;
// Shell quoting (run_command.h) under the short name these tests use.
constexpr auto Quote = &recorder::ShellQuote;

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kData = RECORDER_TEST_DATA;
const std::string kBinary = RECORDER_BINARY;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Counts SYSCALL records of the given syscall numbers straight from the
// log text, independently of the recorder's parser.
int CountSyscalls(const std::string& log, const std::vector<int>& numbers,
                  const std::string& also = "") {
  std::istringstream in(ReadFile(log));
  int count = 0;
  for (std::string line2; std::getline(in, line2);) {
    if (line2.find("type=SYSCALL ") == std::string::npos) continue;
    if (!also.empty() && line2.find(also) == std::string::npos) continue;
    for (int n : numbers)
      if (line2.find(" syscall=" + std::to_string(n) + " ") != std::string::npos) ++count;
  }
  return count;
}

std::string Counts(const std::string& db) {
  return Scalar(db,
                "SELECT (SELECT count(*) FROM processes) || '/' || "
                "(SELECT count(*) FROM file_events) || '/' || "
                "(SELECT count(*) FROM network_events) || '/' || "
                "(SELECT count(*) FROM security_events) || '/' || "
                "(SELECT count(*) FROM module_events) || '/' || "
                "(SELECT count(*) FROM failed_execs) || '/' || "
                "(SELECT count(*) FROM processes WHERE end_time IS NOT NULL)");
}

class CapturedLogTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CapturedLogTest, ReplayStoresWhatTheWorkloadDid) {
  const std::string log = kData + "/" + GetParam();
  ASSERT_TRUE(std::filesystem::exists(log)) << log;
  const nlohmann::json markers = nlohmann::json::parse(ReadFile(kData + "/expected-markers.json"));
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  RecorderRun out = RunRecorder("replay --db " + Quote(db) + " " + Quote(log));
  ASSERT_EQ(out.exit_code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("malformed lines: 0"));

  // One process row per successful execve/execveat (59/322 on x86_64);
  // a failed one is a failed_execs row, or a PATH search miss counted on
  // the exec that ended the search.
  const int execs = CountSyscalls(log, {59, 322}, "success=yes");
  ASSERT_GT(execs, 0);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes WHERE placeholder = 0"),
            std::to_string(execs));
  EXPECT_EQ(Scalar(db,
                   "SELECT (SELECT count(*) FROM failed_execs) + "
                   "(SELECT sum(path_search_attempts) FROM processes)"),
            std::to_string(CountSyscalls(log, {59, 322}, "success=no")));
  // Every exit_group ended some process.
  EXPECT_GE(std::stoi(Scalar(db, "SELECT count(*) FROM processes WHERE end_time IS NOT NULL")),
            CountSyscalls(log, {231}));

  // Exact argv, in order, for the argument torture test.
  const auto& special = markers["steps"]["exec_special_args"]["argv"];
  std::vector<Row> rows = Query(db,
                                "SELECT argv, cmdline, exe, exit_code FROM processes WHERE "
                                "argv LIKE '%recorder-golden-marker-special%'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(rows[0].at("argv")), special);
  EXPECT_EQ(rows[0].at("cmdline"),
            recorder::store::ShellJoin(special.get<std::vector<std::string>>()));
  EXPECT_EQ(rows[0].at("exe"), "/usr/bin/echo");
  EXPECT_EQ(rows[0].at("exit_code"), "0");

  // Exit codes of `sh -c 'exit N'`.
  for (const auto& step : markers["steps"]["exit_codes"]) {
    if (!step.contains("exit_group_status")) continue;
    std::string marker = step["argv"].back().get<std::string>();
    EXPECT_EQ(Scalar(db, "SELECT exit_code FROM processes WHERE cmdline LIKE '%" + marker + "'"),
              std::to_string(step["exit_group_status"].get<int>()))
        << marker;
  }
  // No process row is a failed exec.
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes WHERE success = 0"), "0");

  // Files: the rename to a name with a space, under the workload dir.
  const auto& files = markers["steps"]["files"];
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events WHERE operation = 'rename' AND path = '" +
                           files["plain"].get<std::string>() + "' AND new_path = '" +
                           files["space"].get<std::string>() + "'"),
            "1");
  EXPECT_GE(std::stoi(Scalar(db, "SELECT count(*) FROM file_events WHERE path = '" +
                                     files["non_ascii"].get<std::string>() + "'")),
            1);
  // Every event resolves to a process row (placeholder or exec).
  for (const char* view :
       {"file_events", "network_events", "security_events", "module_events", "failed_execs"}) {
    EXPECT_EQ(Scalar(db, std::string("SELECT count(*) FROM ") + view +
                             " e LEFT JOIN processes p USING (process_id) WHERE p.pid IS NULL "
                             "OR p.pid != e.pid"),
              "0")
        << view;
  }

  // Network: the TCP listener on the IPv4 port, by the server pid.
  const auto& run = markers["runs"][GetParam() == "capture-raw.log" ? "raw" : "enriched"];
  const int port = markers["ipv4_port"].get<int>();
  EXPECT_GE(
      std::stoi(Scalar(db,
                       "SELECT count(*) FROM network_events WHERE direction = 'listen' AND "
                       "protocol = 'tcp' AND local_port = " +
                           std::to_string(port) + " AND pid = " +
                           std::to_string(run["varying"]["network.tcp4.server_pid"].get<int>()))),
      1);
  EXPECT_GE(std::stoi(Scalar(db,
                             "SELECT count(*) FROM network_events WHERE direction = "
                             "'outbound' AND remote_port = " +
                                 std::to_string(port))),
            1);
  // PAM: su to nobody authenticated, and the failed su.
  EXPECT_GE(std::stoi(Scalar(db,
                             "SELECT count(*) FROM security_events WHERE kind = "
                             "'authentication' AND result = 'success'")),
            1);
  EXPECT_GE(std::stoi(Scalar(db,
                             "SELECT count(*) FROM security_events WHERE kind = "
                             "'authentication' AND result = 'failed'")),
            1);

  // The run is recorded with the input's line count.
  std::vector<Row> runs = Query(db, "SELECT * FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].at("source"), "replay:" + log);
  const std::string text = ReadFile(log);
  EXPECT_EQ(runs[0].at("lines"), std::to_string(std::count(text.begin(), text.end(), '\n')));
  EXPECT_EQ(runs[0].at("malformed"), "0");
  EXPECT_EQ(runs[0].at("kernel_lost"), "0");
  EXPECT_EQ(runs[0].at("duplicates"), "0");
  EXPECT_EQ(Scalar(db, "SELECT events_stored FROM runs"),
            Scalar(db,
                   "SELECT (SELECT count(*) FROM processes WHERE placeholder = 0) + "
                   "(SELECT count(*) FROM processes WHERE end_time IS NOT NULL) + "
                   "(SELECT count(*) FROM file_events) + "
                   "(SELECT count(*) FROM network_events) + "
                   "(SELECT count(*) FROM security_events) + "
                   "(SELECT count(*) FROM module_events) + "
                   "(SELECT count(*) FROM failed_execs)"));
}

INSTANTIATE_TEST_SUITE_P(Logs, CapturedLogTest,
                         ::testing::Values("capture-raw.log", "capture-enriched.log"));

TEST(ReplayCliTest, ReplayingTwiceStoresNothingNew) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  const std::string log = kData + "/capture-raw.log";
  ASSERT_EQ(RunRecorder("replay --db " + Quote(db) + " " + Quote(log)).exit_code, 0);
  const std::string first = Counts(db);
  RecorderRun again = RunRecorder("replay --db " + Quote(db) + " " + Quote(log));
  ASSERT_EQ(again.exit_code, 0) << again.text;
  EXPECT_EQ(Counts(db), first);
  std::vector<Row> runs = Query(db, "SELECT events_stored, duplicates FROM runs ORDER BY run_id");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_NE(runs[0].at("events_stored"), "0");
  EXPECT_EQ(runs[1].at("events_stored"), "0");
  EXPECT_EQ(runs[1].at("duplicates"), runs[0].at("events_stored"));
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
}

// A replayed raw log names no user (the log's machine's /etc/passwd is
// not here): processes and security events both show the uid as text.
TEST(ReplayCliTest, UserColumnsShowTheUidAlikeInEveryView) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  ASSERT_EQ(
      RunRecorder("replay --db " + Quote(db) + " " + Quote(kData + "/capture-raw.log")).exit_code,
      0);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes WHERE uid IS NOT NULL AND user IS NULL"),
            "0");
  EXPECT_EQ(Scalar(db, "SELECT group_concat(DISTINCT user) FROM processes WHERE uid = 0"), "0");
  EXPECT_NE(Scalar(db, "SELECT count(*) FROM security_events WHERE uid = 0"), "0");
  EXPECT_EQ(Scalar(db, "SELECT group_concat(DISTINCT user) FROM security_events WHERE uid = 0"),
            "0");
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM file_events WHERE user IS NULL"), "0");
}

TEST(ReplayCliTest, GzipAndStdinGiveTheSameResultAsThePlainFile) {
  TempDir dir;
  const std::string log = kData + "/capture-enriched.log";
  const std::string gz = dir.File("audit.log.gz");
  ASSERT_EQ(RunCommand("gzip -c " + Quote(log) + " > " + Quote(gz)).exit_code, 0);
  ASSERT_EQ(RunRecorder("replay --db " + Quote(dir.File("plain.db")) + " " + Quote(log)).exit_code,
            0);
  ASSERT_EQ(RunRecorder("replay --db " + Quote(dir.File("gz.db")) + " " + Quote(gz)).exit_code, 0);
  ASSERT_EQ(
      RunRecorder("replay --db " + Quote(dir.File("stdin.db")) + " - < " + Quote(log)).exit_code,
      0);
  const std::string plain = Counts(dir.File("plain.db"));
  EXPECT_NE(plain, "0/0/0/0/0/0");
  EXPECT_EQ(Counts(dir.File("gz.db")), plain);
  EXPECT_EQ(Counts(dir.File("stdin.db")), plain);
  EXPECT_EQ(Scalar(dir.File("stdin.db"), "SELECT source FROM runs"), "replay:stdin");
}

// --node names the host of records without node=, in every view and with
// the parents linked as without it; a record's own node= is kept.
TEST(ReplayCliTest, NodeNamesTheHostOfRecordsWithoutOne) {
  TempDir dir;
  const std::string log = kData + "/capture-raw.log";
  const std::string plain = dir.File("plain.db"), named = dir.File("named.db");
  ASSERT_EQ(RunRecorder("replay --db " + Quote(plain) + " " + Quote(log)).exit_code, 0);
  ASSERT_EQ(RunRecorder("replay --node web-1 --db " + Quote(named) + " " + Quote(log)).exit_code,
            0);
  EXPECT_EQ(Counts(named), Counts(plain));
  for (const char* view : {"processes", "file_events", "network_events", "security_events"})
    EXPECT_EQ(
        Scalar(named,
               std::string("SELECT group_concat(DISTINCT ifnull(node, 'NULL')) FROM ") + view),
        "web-1")
        << view;
  const std::string parents = "SELECT count(*) FROM processes WHERE parent_process_id IS NOT NULL";
  EXPECT_EQ(Scalar(named, parents), Scalar(plain, parents));

  // A line that names its node keeps it.
  const std::string other =
      dir.Write("other.log",
                "node=db-2 type=SYSCALL msg=audit(1795629500.000:1): arch=c000003e syscall=59 "
                "success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4242 auid=0 uid=0 gid=0 "
                "euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"true\" "
                "exe=\"/bin/true\" key=(null)\n"
                "node=db-2 type=EXECVE msg=audit(1795629500.000:1): argc=1 a0=\"true\"\n"
                "node=db-2 type=PROCTITLE msg=audit(1795629500.000:1): proctitle=74727565\n");
  ASSERT_EQ(RunRecorder("replay --node web-1 --db " + Quote(named) + " " + Quote(other)).exit_code,
            0);
  EXPECT_EQ(Scalar(named, "SELECT node FROM processes WHERE pid = 4242"), "db-2");
}

TEST(ReplayCliTest, MalformedLinesAreCountedAndReportedNotFatal) {
  TempDir dir;
  const std::string log = dir.File("hand.log");
  std::ofstream(log)
      << "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 "
         "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=4000 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 "
         "egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)\n"
      << "this is not audit text\n"
      << "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"ls\" a1=\"-l\"\n"
      << "type=CWD msg=audit(1700000000.100:7): cwd=\"/root\"\n"
      << "type=SYSCALL msg=audit(garbage): arch=c000003e\n"
      << "type=PROCTITLE msg=audit(1700000000.100:7): proctitle=6C73002D6C\n";
  const std::string db = dir.File("monitor.db");
  RecorderRun out = RunRecorder("replay --db " + Quote(db) + " " + Quote(log));
  ASSERT_EQ(out.exit_code, 0) << out.text;
  EXPECT_THAT(out.text, HasSubstr("malformed lines: 2"));
  EXPECT_THAT(out.text, HasSubstr(log + ":2: "));
  EXPECT_THAT(out.text, HasSubstr(log + ":5: "));
  EXPECT_EQ(Scalar(db, "SELECT malformed FROM runs"), "2");
  EXPECT_EQ(Scalar(db, "SELECT lines FROM runs"), "6");
  std::vector<Row> rows = Query(db, "SELECT pid, exe, cmdline, cwd FROM processes");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("pid"), "4000");
  EXPECT_EQ(rows[0].at("cmdline"), "ls -l");
  EXPECT_EQ(rows[0].at("cwd"), "/root");
}

TEST(ReplayCliTest, AFileWithNoAuditLineIsAnErrorNotAnEmptyLog) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  RecorderRun out = RunRecorder("replay --db " + Quote(db) + " /bin/ls");
  EXPECT_EQ(out.exit_code, 1) << out.text;
  EXPECT_THAT(out.text, HasSubstr("/bin/ls: does not look like an audit log"));
  // One stray line of garbage in a real log stays a counted malformed line.
  const std::string log = dir.File("mixed.log");
  std::ofstream(log) << "garbage\n"
                     << "type=USER_LOGIN msg=audit(1700000000.100:9): pid=1 uid=0 auid=0 ses=1 "
                        "msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=? "
                        "terminal=ssh res=success'\n";
  out = RunRecorder("replay --db " + Quote(db) + " " + Quote(log));
  EXPECT_EQ(out.exit_code, 0) << out.text;
}

// One log with records of two machines (auditd's node= names): the same
// pid on each is two processes, and each event and child finds its own.
TEST(ReplayCliTest, TwoNodesWithTheSamePidInOneLogAreTwoProcesses) {
  TempDir dir;
  const std::string log = dir.File("two-nodes.log");
  auto exec = [](const std::string& node, const std::string& stamp, int pid, int ppid,
                 const std::string& exe) {
    return "node=" + node + " type=SYSCALL msg=audit(" + stamp +
           "): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=" +
           std::to_string(ppid) + " pid=" + std::to_string(pid) +
           " auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 "
           "comm=\"x\" exe=\"" +
           exe + "\" key=(null)\n" + "node=" + node + " type=EXECVE msg=audit(" + stamp +
           "): argc=1 a0=\"" + exe + "\"\n" + "node=" + node + " type=CWD msg=audit(" + stamp +
           "): cwd=\"/\"\n" + "node=" + node + " type=PROCTITLE msg=audit(" + stamp +
           "): proctitle=78\n";
  };
  auto unlink = [](const std::string& node, const std::string& stamp, int pid,
                   const std::string& exe, const std::string& path) {
    return "node=" + node + " type=SYSCALL msg=audit(" + stamp +
           "): arch=c000003e syscall=263 success=yes exit=0 a0=ffffff9c a1=1 a2=0 a3=0 items=2 "
           "ppid=1 pid=" +
           std::to_string(pid) +
           " auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 "
           "comm=\"x\" exe=\"" +
           exe + "\" key=(null)\n" + "node=" + node + " type=CWD msg=audit(" + stamp +
           "): cwd=\"/\"\n" + "node=" + node + " type=PATH msg=audit(" + stamp +
           "): item=0 name=\"/tmp/\" inode=1 dev=fe:00 mode=040755 ouid=0 ogid=0 rdev=00:00 "
           "nametype=PARENT\n" +
           "node=" + node + " type=PATH msg=audit(" + stamp + "): item=1 name=\"" + path +
           "\" inode=2 dev=fe:00 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=DELETE\n" +
           "node=" + node + " type=PROCTITLE msg=audit(" + stamp + "): proctitle=78\n";
  };
  std::ofstream(log) << exec("web1", "1700000000.100:1", 4000, 1, "/bin/sh")
                     << exec("web2", "1700000000.200:1", 4000, 1, "/bin/sh")
                     << unlink("web1", "1700000000.300:2", 4000, "/bin/sh", "/tmp/web1-file")
                     << exec("web1", "1700000000.400:3", 4001, 4000, "/bin/ls");
  const std::string db = dir.File("monitor.db");
  RecorderRun out = RunRecorder("replay --db " + Quote(db) + " " + Quote(log));
  ASSERT_EQ(out.exit_code, 0) << out.text;
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM processes WHERE placeholder = 1"), "0") << out.text;
  const std::string web1_sh =
      "(SELECT p.process_id FROM processes p, process_data d, strings n WHERE p.process_id = "
      "d.process_id AND d.node_id = n.id AND n.value = 'web1' AND p.exe = '/bin/sh')";
  EXPECT_EQ(Scalar(db, "SELECT process_id = " + web1_sh +
                           " FROM file_events WHERE path = '/tmp/web1-file'"),
            "1");
  EXPECT_EQ(
      Scalar(db, "SELECT parent_process_id = " + web1_sh + " FROM processes WHERE exe = '/bin/ls'"),
      "1");
}

TEST(ReplayCliTest, UnreadableInputIsNamedAndNothingIsCreated) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  RecorderRun out =
      RunRecorder("replay --db " + Quote(db) + " " + Quote(kData + "/capture-raw.log") + " " +
                  Quote(dir.File("missing.log")));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_THAT(out.text, HasSubstr(dir.File("missing.log")));
  EXPECT_FALSE(std::filesystem::exists(db));
  out = RunRecorder("replay --db " + Quote(db) + " " + Quote(dir.File("")));  // a directory
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_THAT(out.text, HasSubstr("directory"));
}

TEST(ReplayCliTest, BadDatabasePathsAreClearErrors) {
  TempDir dir;
  const std::string log = Quote(kData + "/capture-raw.log");
  RecorderRun out = RunRecorder("replay --db " + Quote(dir.File("no/dir/monitor.db")) + " " + log);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.text, HasSubstr(dir.File("no/dir/monitor.db")));
  EXPECT_THAT(out.text, HasSubstr("does not exist"));

  // We run as root, so permission bits do not stop us; /proc does.
  out = RunRecorder("replay --db /proc/recorder-replay-test.db " + log);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.text, HasSubstr("/proc/recorder-replay-test.db"));

  const std::string text_file = dir.File("notes.txt");
  std::ofstream(text_file) << std::string(2048, 'n');
  out = RunRecorder("replay --db " + Quote(text_file) + " " + log);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.text, HasSubstr(text_file));
  EXPECT_THAT(out.text, HasSubstr("not a database"));
  EXPECT_EQ(ReadFile(text_file), std::string(2048, 'n'));
}

TEST(ReplayCliTest, NewerSchemaIsRefusedAndTheDatabaseIsUntouched) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  const std::string log = Quote(kData + "/capture-raw.log");
  ASSERT_EQ(RunRecorder("replay --db " + Quote(db) + " " + log).exit_code, 0);
  const std::string before = Counts(db);
  ASSERT_EQ(RunCommand("sqlite3 " + Quote(db) + " 'PRAGMA user_version=42'").exit_code, 0);
  RecorderRun out = RunRecorder("replay --db " + Quote(db) + " " + log);
  EXPECT_EQ(out.exit_code, 2);
  EXPECT_THAT(out.text, HasSubstr(db));
  EXPECT_THAT(out.text, HasSubstr("42"));
  EXPECT_THAT(out.text, HasSubstr("newer"));
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(db, "PRAGMA user_version"), "42");
  EXPECT_EQ(Counts(db), before);
  EXPECT_EQ(Scalar(db, "SELECT count(*) FROM runs"), "1");
}

// Builds a bigger log from the captured one: each copy shifts every
// record's time by `copy` seconds, so the audit events are distinct.
std::string BigLog(const TempDir& dir, int copies) {
  const std::string text = ReadFile(kData + "/capture-raw.log");
  const std::regex stamp(R"(audit\((\d+)\.(\d+):(\d+)\))");
  std::string path = dir.File("big.log");
  std::ofstream out(path);
  for (int copy = 0; copy < copies; ++copy) {
    std::string shifted;
    auto begin = std::sregex_iterator(text.begin(), text.end(), stamp);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      shifted.append(text, last, it->position() - last);
      shifted += "audit(" + std::to_string(std::stoll((*it)[1]) + copy * 100) + "." +
                 (*it)[2].str() + ":" + (*it)[3].str() + ")";
      last = it->position() + it->length();
    }
    shifted.append(text, last);
    out << shifted;
  }
  return path;
}

TEST(ReplayCliTest, AReaderQueryingDuringReplaySeesConsistentGrowingCounts) {
  TempDir dir;
  const std::string db = dir.File("monitor.db");
  const std::string log = BigLog(dir, 60);
  // Create the database first so the reader can open it at once.
  ASSERT_EQ(RunRecorder("replay --db " + Quote(db) + " - < /dev/null").exit_code, 0);

  std::atomic<bool> done{false};
  RecorderRun replay;
  std::thread writer([&] {
    replay = RunRecorder("replay --batch-write-delay-ms 0 --db " + Quote(db) + " " + Quote(log));
    done = true;
  });
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(reader, 5000);
  int64_t last = 0;
  int reads = 0;
  std::string error;
  // Reads until one read starts after the replay finished.
  for (bool finished = false; error.empty() && !finished;) {
    finished = done.load();
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(reader,
                                "SELECT (SELECT count(*) FROM file_events), "
                                "(SELECT count(*) FROM file_events f LEFT JOIN processes p "
                                "USING (process_id) WHERE p.process_id IS NULL)",
                                -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
      error = sqlite3_errmsg(reader);
    } else {
      int64_t count = sqlite3_column_int64(stmt, 0);
      if (count < last) error = "count went down";
      if (sqlite3_column_int64(stmt, 1) != 0) error = "event without its process";
      last = count;
      ++reads;
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(reader);
  writer.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(replay.exit_code, 0) << replay.text;
  EXPECT_GT(reads, 2);
  EXPECT_EQ(std::to_string(last), Scalar(db, "SELECT count(*) FROM file_events"));
  EXPECT_GT(last, 0);
}

// The store writes on its own thread: an error there (here the file size
// limit, as a full disk would) must still stop the replay with exit code 2
// and a message naming the database, and leave the database intact, with
// what was committed before the error whole (events with processes).
// Returns the replay's output. `extra`: more replay options.
std::string ReplayIntoAFileSizeLimit(const TempDir& dir, const std::string& extra) {
  const std::string db = dir.File("monitor.db");
  const std::string log = BigLog(dir, 60);
  EXPECT_EQ(RunRecorder("replay --db " + Quote(db) + " - < /dev/null").exit_code, 0);
  // dash's ulimit -f counts 512-byte blocks: 1 MiB, far less than the
  // ~60 copies need. SIGXFSZ ignored, so write() fails with EFBIG instead.
  CommandResult run = RunCommand("trap '' XFSZ; ulimit -f 2048; exec " + Quote(kBinary) +
                                 " replay --no-progress --batch-write-delay-ms 0 " + extra +
                                 " --db " + Quote(db) + " " + Quote(log));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("recorder replay: " + db + ": cannot"));
  EXPECT_EQ(Scalar(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM file_events f LEFT JOIN processes p USING (process_id) "
                   "WHERE p.process_id IS NULL"),
            "0");
  EXPECT_NE(Counts(db), "<not one value>");
  return run.output;
}

TEST(ReplayCliTest, AWriteErrorDuringReplayStopsItWithTheDatabaseError) {
  TempDir dir;
  ReplayIntoAFileSizeLimit(dir, "");
}

// With signals the replay runs three threads (matching beside the
// writer): an error of the store's thread must stop it the same way.
TEST(ReplayCliTest, AWriteErrorWithSignalsOnStopsItWithTheDatabaseError) {
  TempDir dir;
  const std::string output = ReplayIntoAFileSizeLimit(
      dir, "--config " + Quote(dir.path()) + " --signals " + Quote(kData + "/signals"));
  EXPECT_THAT(output, HasSubstr("matching thread"));  // the three threads ran
}

// The matching thread changes where work runs, not what is stored: the
// same log and rules give the same events and the same matches, pointing
// at the same rows, as a replay on one thread.
TEST(ReplayCliTest, MatchingOnItsOwnThreadStoresWhatOneThreadStores) {
  TempDir dir;
  const std::string log = BigLog(dir, 20);
  std::ofstream(dir.File("recorder.json")) << R"({"RecordSignalMatches": 100000})";
  auto replay = [&](const std::string& db, const std::string& extra) {
    RecorderRun run = RunRecorder("replay --no-progress --config " + Quote(dir.path()) +
                                  " --signals " + Quote(kData + "/signals") + " --db " + Quote(db) +
                                  " " + extra + " " + Quote(log));
    EXPECT_EQ(run.exit_code, 0) << run.text;
    return run.text;
  };
  const std::string threads = dir.File("threads.db"), single = dir.File("single.db");
  EXPECT_THAT(replay(threads, ""), HasSubstr("matching thread"));
  EXPECT_THAT(replay(single, "--single-thread"), Not(HasSubstr("matching thread")));
  EXPECT_EQ(Counts(threads), Counts(single));
  const std::string matches =
      "SELECT group_concat(rule_id || ' ' || event_table || ' ' || event_row || ' ' || "
      "process_id || ' ' || time, ';') FROM (SELECT * FROM signal_matches ORDER BY id)";
  const std::string in_threads = Scalar(threads, matches);
  EXPECT_EQ(in_threads, Scalar(single, matches));
  // Every copy of the marker exec matched.
  EXPECT_EQ(Scalar(threads,
                   "SELECT count(*) FROM signal_matches "
                   "WHERE rule_id = '6c1e0a52-5f0e-4d8c-9a3e-recorder-marker'"),
            "20");
}

// Ctrl-C stops reading but stores (and commits) everything read so far:
// the interrupted run holds exactly what a replay of the lines it counted
// stores. (How many that is depends on the reader: zlib waits for a full
// buffer from a pipe, so the tail sent last may still be unread.)
TEST(ReplayCliTest, InterruptStoresWhatWasReadAndExits130) {
  TempDir dir;
  const std::string log = kData + "/capture-raw.log";
  const std::string db = dir.File("monitor.db");
  int to_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    close(to_child[0]);
    close(to_child[1]);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execl(kBinary.c_str(), kBinary.c_str(), "replay", "--no-progress", "--db", db.c_str(), "-",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to_child[0]);
  const std::string text = ReadFile(log);
  for (size_t done = 0; done < text.size();) {
    ssize_t w = write(to_child[1], text.data() + done, text.size() - done);
    ASSERT_GT(w, 0);
    done += static_cast<size_t>(w);
  }
  // Interrupt once the recorder took everything out of the pipe and its
  // reader is blocked reading more: what it read is parsed.
  const std::string pipe_name = FileOfDescriptor(getpid(), to_child[1]);
  EXPECT_TRUE(WaitFor(
      [&] {
        int pending = 0;
        return ioctl(to_child[1], FIONREAD, &pending) == 0 && pending == 0 &&
               BlockedReading(pid, pipe_name);
      },
      std::chrono::seconds(10), std::chrono::milliseconds(10)));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  close(to_child[1]);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_THAT(Scalar(db, "SELECT error FROM runs"), HasSubstr("interrupted"));
  const int lines = std::stoi(Scalar(db, "SELECT lines FROM runs"));
  EXPECT_GT(lines, 100);
  const std::string prefix = dir.File("prefix.log");
  {
    std::istringstream in(text);
    std::ofstream out(prefix);
    std::string line;
    for (int i = 0; i < lines && std::getline(in, line); ++i) out << line << '\n';
  }
  ASSERT_EQ(
      RunRecorder("replay --db " + Quote(dir.File("prefix.db")) + " " + Quote(prefix)).exit_code,
      0);
  EXPECT_EQ(Counts(db), Counts(dir.File("prefix.db")));
  EXPECT_NE(Counts(db), "0/0/0/0/0/0");
}

TEST(ReplayCliTest, HelpSaysWhatItDoesAndTheExitCodes) {
  RecorderRun out = RunRecorder("replay --help");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_THAT(out.text, HasSubstr("idempotent"));
  EXPECT_THAT(out.text, HasSubstr("Exit codes"));
  EXPECT_THAT(out.text, HasSubstr("--db"));
  out = RunRecorder("replay --batch-write-delay-ms 6000 - < /dev/null");
  EXPECT_NE(out.exit_code, 0);  // BatchWriteDelayMS bounds are 0..5000
}

}  // namespace
