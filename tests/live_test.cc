// Live recording against the REAL kernel audit subsystem: `recorder run`
// (unicast), `recorder run --source multicast` next to a real auditd, and
// `recorder plugin` under a real auditd. Each runs a workload and checks
// the rows in monitor.db, then checks the machine's audit state is back.
//
// Needs root and kernel audit; skips (saying why) otherwise, and when the
// machine is busy with another audit daemon or someone's capture rules.
// AuditStateGuard (audit_state_guard.h) restores the audit state as found
// even when an assertion fails: only rules with our test keys removed, only
// processes we started killed, by pid.
//
// Also: unit tests of the daemon's pure parts (counters, plugin line
// splitting, self-exclusion) that need nothing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/control_channel.h"
#include "daemon/event_counters.h"
#include "daemon/recording_sink.h"
#include "live_support.h"
#include "pipeline_support.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-livetest";

struct Workload {
  std::string marker;
  std::vector<std::string> echo_argv;
  std::string dir;
  int port4 = 0;
  int port6 = 0;
  bool pam_ran = false;
};

// A TCP listener on loopback, one connect + accept; returns the port.
// IPv4 accepts with an address buffer (as most servers do, giving audit a
// SOCKADDR); IPv6 with accept(fd, NULL, NULL), which the recorder knows
// only through the listener it saw bound.
int TcpRoundTrip(int family) {
  int server = socket(family, SOCK_STREAM, 0);
  sockaddr_storage storage{};
  socklen_t length;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    length = sizeof(sockaddr_in6);
  }
  if (bind(server, reinterpret_cast<sockaddr*>(&storage), length) != 0 || listen(server, 4) != 0) {
    close(server);
    return 0;
  }
  getsockname(server, reinterpret_cast<sockaddr*>(&storage), &length);
  int port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&storage)->sin_port
                                     : reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  int client = socket(family, SOCK_STREAM, 0);
  int connected = connect(client, reinterpret_cast<sockaddr*>(&storage), length);
  sockaddr_storage peer{};
  socklen_t peer_length = sizeof(peer);
  int accepted = family == AF_INET
                     ? accept(server, reinterpret_cast<sockaddr*>(&peer), &peer_length)
                     : accept(server, nullptr, nullptr);
  close(accepted);
  close(client);
  close(server);
  return connected == 0 && accepted >= 0 ? port : 0;
}

Workload RunWorkload(const std::string& dir) {
  Workload w;
  w.marker = "livemark" + std::to_string(getpid()) + "x" + std::to_string(rand() % 100000);
  w.dir = dir;
  // Unique argv: spaces, unicode, more than 10 arguments, one argument
  // long enough that the kernel splits it (a2[0], a2[1], ...).
  w.echo_argv = {"/bin/echo",
                 w.marker,
                 "with space",
                 "ünïcødé ✓",
                 "a4",
                 "a5",
                 "a6",
                 "a7",
                 "a8",
                 "a9",
                 "a10",
                 "a11",
                 std::string(9000, 'L') + "end"};
  EXPECT_EQ(RunProgram(w.echo_argv), 0);
  // Exit code.
  EXPECT_EQ(RunProgram({"/bin/sh", "-c", "exit 7", w.marker + "-exit"}), 7);
  // PATH searches (env's execvp): two misses, then /usr/bin/true; and a
  // name that no directory has.
  EXPECT_EQ(RunProgram({"/usr/bin/env", "PATH=/nonexistent-a:/nonexistent-b:/usr/bin:/bin", "true",
                        w.marker + "-search"}),
            0);
  EXPECT_EQ(
      RunProgram({"/usr/bin/env", "PATH=/nonexistent-a:/nonexistent-b", w.marker + "-nosuch"}),
      127);
  // File create / rename / delete.
  std::string script = "echo x > " + dir + "/created.txt && mv " + dir + "/created.txt " + dir +
                       "/renamed.txt && rm " + dir + "/renamed.txt";
  EXPECT_EQ(RunProgram({"/bin/sh", "-c", script}), 0);
  // TCP on IPv4 and IPv6 loopback (from this process).
  w.port4 = TcpRoundTrip(AF_INET);
  w.port6 = TcpRoundTrip(AF_INET6);
  EXPECT_NE(w.port4, 0);
  // PAM: runuser opens a session (USER_START, CRED_ACQ...).
  if (access("/usr/sbin/runuser", X_OK) == 0) {
    w.pam_ran = RunProgram({"/usr/sbin/runuser", "-u", "nobody", "--", "/bin/true"}) == 0;
  }
  return w;
}

void CheckRecorded(Db& db, const Workload& w) {
  // The exec with its exact argv.
  auto exec = db.Await("SELECT argv, exit_code FROM processes WHERE cmdline LIKE '%" + w.marker +
                       "%' AND exe LIKE '%echo'");
  ASSERT_FALSE(exec.empty()) << "no process row for the echo workload";
  nlohmann::json argv = nlohmann::json::parse(exec[0][0], nullptr, false);
  ASSERT_TRUE(argv.is_array()) << exec[0][0].substr(0, 200);
  std::vector<std::string> got = argv.get<std::vector<std::string>>();
  EXPECT_EQ(got.size(), w.echo_argv.size());
  std::vector<std::string> want = w.echo_argv;
  want[0] = "/bin/echo";
  if (!got.empty() && got[0] != want[0]) want[0] = got[0];  // argv[0] as exec'd
  EXPECT_EQ(got, want);

  // Exit code of `sh -c 'exit 7'`.
  auto exit_row = db.Await("SELECT exit_code FROM processes WHERE cmdline LIKE '%" + w.marker +
                           "-exit%' AND exit_code IS NOT NULL");
  ASSERT_FALSE(exit_row.empty()) << "no exit code for sh -c 'exit 7'";
  EXPECT_EQ(exit_row[0][0], "7");

  // The search is counted on the exec that ended it; the name no directory
  // had is two failed execs of env, linked to env's process, and no process.
  auto search = db.Await(
      "SELECT path_search_attempts FROM processes WHERE exe = '/usr/bin/true' "
      "AND cmdline LIKE '%" +
      w.marker + "-search'");
  ASSERT_FALSE(search.empty()) << "no process row for env's true";
  EXPECT_EQ(search[0][0], "2");
  auto failed = db.Await(
      "SELECT f.path, f.error, p.exe FROM failed_execs f JOIN processes p "
      "USING (process_id) WHERE f.path LIKE '%" +
          w.marker + "-nosuch' ORDER BY f.path",
      15s, 2);
  ASSERT_EQ(failed.size(), 2u) << "no failed execs for the missing name";
  EXPECT_EQ(failed[0], (std::vector<std::string>{"/nonexistent-a/" + w.marker + "-nosuch", "ENOENT",
                                                 "/usr/bin/env"}));
  EXPECT_EQ(failed[1][0], "/nonexistent-b/" + w.marker + "-nosuch");
  EXPECT_EQ(db.Query("SELECT exe FROM processes WHERE cmdline LIKE '%" + w.marker + "-nosuch%'"),
            (std::vector<std::vector<std::string>>{{"/usr/bin/env"}}));

  // File create, rename, delete.
  std::string created = w.dir + "/created.txt";
  std::string renamed = w.dir + "/renamed.txt";
  auto expect_file_event = [&](const std::string& operation, const std::string& path) {
    EXPECT_FALSE(db.Await("SELECT 1 FROM file_events WHERE operation=" + Quote(operation) +
                          " AND path=" + Quote(path))
                     .empty())
        << "no " << operation << " of " << path;
  };
  expect_file_event("create", created);
  auto rename = db.Await("SELECT new_path FROM file_events WHERE operation='rename' AND path=" +
                         Quote(created));
  ASSERT_FALSE(rename.empty()) << "no rename of " << created;
  EXPECT_EQ(rename[0][0], renamed);
  expect_file_event("delete", renamed);

  // TCP: the test process connected and accepted on both families.
  auto expect_network_event = [&](const std::string& where, const std::string& what) {
    EXPECT_FALSE(db.Await("SELECT 1 FROM network_events WHERE pid=" + std::to_string(getpid()) +
                          " AND " + where)
                     .empty())
        << "no " << what;
  };
  const std::string port4 = std::to_string(w.port4);
  expect_network_event(
      "direction='outbound' AND family='ipv4' AND remote_address='127.0.0.1' AND remote_port=" +
          port4,
      "IPv4 connect to port " + port4);
  expect_network_event("direction='inbound' AND family='ipv4' AND remote_address='127.0.0.1'",
                       "IPv4 accept on port " + port4);
  if (w.port6 != 0) {
    const std::string port6 = std::to_string(w.port6);
    expect_network_event("direction='outbound' AND family='ipv6' AND remote_port=" + port6,
                         "IPv6 connect to port " + port6);
    expect_network_event("direction='inbound' AND family='ipv6' AND local_address='::1'",
                         "IPv6 accept on port " + port6);
  }

  // PAM user records from runuser.
  if (w.pam_ran) {
    auto pam = db.Await(
        "SELECT record_type FROM security_events WHERE exe LIKE '%runuser' AND "
        "(record_type LIKE 'USER_%' OR record_type LIKE 'CRED_%')");
    EXPECT_FALSE(pam.empty()) << "no PAM records from runuser";
  }

  // The recorder ignores itself: no event attributed to the recorder binary.
  EXPECT_TRUE(
      db.Query("SELECT 1 FROM processes WHERE exe=" + Quote(RECORDER_BINARY) + " AND placeholder=0")
          .empty());
}

// `expected`: the audit status before the recorder started (enabled flag,
// audit pid, backlog limit); nullopt enabled when auditd decides it.
void CheckRestored(const AuditStatus& expected, bool check_enabled = true) {
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0) << RunCapture("auditctl -l");
  EXPECT_EQ(CountRulesWithKey(kForeignKey), 1) << "the foreign rule must survive";
  Result<AuditStatus> now = ReadAuditStatus();
  ASSERT_TRUE(now.ok());
  if (check_enabled) {
    EXPECT_EQ(now->enabled, expected.enabled);
  }
  EXPECT_EQ(now->pid, expected.pid);
  EXPECT_EQ(now->backlog_limit, expected.backlog_limit);
  EXPECT_EQ(now->backlog_wait_time, expected.backlog_wait_time);
}

std::vector<std::string> RecorderArgs(const std::string& command, const TempDir& temp,
                                      const std::string& source) {
  std::vector<std::string> args = {RECORDER_BINARY, command,
                                   "--db",          temp.path() + "/monitor.db",
                                   "--state-dir",   temp.path() + "/state",
                                   "--rule-key",    kTestKey,
                                   "--config",      temp.path() + "/config"};
  if (!source.empty()) {
    args.push_back("--source");
    args.push_back(source);
  }
  return args;
}

bool RecorderAnswers(const TempDir& temp) {
  return daemon::ControlRequest(temp.path() + "/state/recorder.sock", "ping", 500).ok();
}

void SetUpTemp(const TempDir& temp) {
  fs::create_directories(temp.path() + "/work");
  fs::create_directories(temp.path() + "/config");
  chmod((temp.path() + "/work").c_str(), 0777);
}

// ---------------------------------------------------------------------
// Live tests.

// Each test starts from a machine free for a unicast recorder, with one
// foreign rule (kForeignRule) that must survive everything the recorder
// does; the guard puts the audit state back however the test ends.
class LiveRecording : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/true);
    if (!skip.empty()) GTEST_SKIP() << skip;
    guard_ = std::make_unique<AuditStateGuard>(kTestKey);
    SetUpTemp(temp_);
    ASSERT_EQ(RunCapture(std::string("auditctl ") + kForeignRule), "");
  }

  std::string Log(const std::string& name = "recorder.log") const {
    return RunCapture("cat " + temp_.path() + "/" + name);
  }

  // `recorder run` with `args`, once it answers on its control socket.
  pid_t StartRecorder(const std::vector<std::string>& args) {
    pid_t recorder = Spawn(args, temp_.path() + "/recorder.log");
    guard_->Adopt(recorder);
    EXPECT_TRUE(WaitFor([&] { return RecorderAnswers(temp_); }, 15s)) << Log();
    return recorder;
  }

  // A clean exit after `signal`, and the audit state as `expected`.
  void StopRecorder(pid_t recorder, int signal, const AuditStatus& expected) {
    kill(recorder, signal);
    EXPECT_EQ(WaitExit(recorder, 10s), 0) << Log();
    guard_->Forget(recorder);
    CheckRestored(expected);
  }

  // A real auditd with its configuration in temp/auditd, once it holds
  // the audit pid.
  pid_t StartAuditd() {
    WriteAuditdConfig(temp_.path() + "/auditd");
    pid_t auditd = Spawn({"/usr/sbin/auditd", "-n", "-c", temp_.path() + "/auditd"},
                         temp_.path() + "/auditd.out");
    guard_->Adopt(auditd);
    EXPECT_TRUE(
        WaitFor([&] { return ReadAuditStatus()->pid == static_cast<uint32_t>(auditd); }, 10s))
        << Log("auditd.out");
    return auditd;
  }

  void StopAuditd(pid_t auditd) {
    EXPECT_EQ(AuditStateGuard::StopChild(auditd), 0);
    guard_->Forget(auditd);
  }

  nlohmann::json Status() {
    auto status = daemon::ControlRequest(temp_.path() + "/state/recorder.sock", "status");
    EXPECT_TRUE(status.ok());
    return status.ok() ? nlohmann::json::parse(*status) : nlohmann::json::object();
  }

  std::unique_ptr<AuditStateGuard> guard_;
  TempDir temp_;
};

TEST_F(LiveRecording, UnicastRunRecordsWorkloadAndRestoresAudit) {
  pid_t recorder = StartRecorder(RecorderArgs("run", temp_, "unicast"));
  EXPECT_EQ(ReadAuditStatus()->pid, static_cast<uint32_t>(recorder));
  EXPECT_GT(CountRulesWithKey(kTestKey), 0);

  // status reports the running recorder.
  std::string status = RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " +
                                  temp_.path() + "/state");
  nlohmann::json json = nlohmann::json::parse(status, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << status;
  EXPECT_EQ(json.value("state", ""), "running");
  EXPECT_EQ(json.value("source", ""), "unicast");
  EXPECT_EQ(json["rules"].value("missing", -1), 0);

  Workload workload = RunWorkload(temp_.path() + "/work");
  Db db(temp_.path() + "/monitor.db");
  CheckRecorded(db, workload);

  // Stop through the control channel (the `stop` command), which waits.
  std::string stopped =
      RunCapture(std::string(RECORDER_BINARY) + " stop --state-dir " + temp_.path() + "/state");
  EXPECT_NE(stopped.find("stopped"), std::string::npos) << stopped;
  EXPECT_EQ(WaitExit(recorder, 10s), 0) << Log();
  guard_->Forget(recorder);
  CheckRestored(guard_->before());
  std::string after = RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " +
                                 temp_.path() + "/state");
  EXPECT_NE(after.find("\"stopped\""), std::string::npos) << after;
}

TEST_F(LiveRecording, SigtermAndDriftRestoreRules) {
  std::vector<std::string> args = RecorderArgs("run", temp_, "unicast");
  args.push_back("--rule-check-interval");
  args.push_back("0.5");
  pid_t recorder = StartRecorder(args);
  int installed = CountRulesWithKey(kTestKey);
  ASSERT_GT(installed, 0);
  // Drift: somebody deletes our rules; the recorder puts them back.
  DeleteRulesWithKey(kTestKey);
  EXPECT_TRUE(WaitFor([&] { return CountRulesWithKey(kTestKey) == installed; }, 10s));
  EXPECT_TRUE(WaitFor([&] { return Status()["rules"].value("restored", 0) >= 1; }, 5s));
  // SIGTERM is a clean stop too.
  StopRecorder(recorder, SIGTERM, guard_->before());
  EXPECT_NE(Log().find("drift"), std::string::npos);
}

// SIGHUP re-reads recorder.json: switching network monitoring off removes
// the connect/accept rules from the kernel while recording goes on.
TEST_F(LiveRecording, SighupReloadsConfigurationAndRules) {
  auto network_rules = [] {
    int count = 0;
    for (const std::string& line : RuleLines())
      if (line.find(kTestKey) != std::string::npos && line.find("connect") != std::string::npos)
        ++count;
    return count;
  };
  pid_t recorder = StartRecorder(RecorderArgs("run", temp_, "unicast"));
  ASSERT_GT(network_rules(), 0);
  const int all_rules = CountRulesWithKey(kTestKey);

  std::ofstream(temp_.path() + "/config/recorder.json") << R"({"MonitorNetwork": 0})";
  kill(recorder, SIGHUP);
  // The reload removes the old set and then installs the new one: wait
  // for its last log line, not for the rules, which a look between the
  // two steps would see half there.
  EXPECT_TRUE(
      WaitFor([&] { return Log().find("configuration reloaded") != std::string::npos; }, 10s))
      << Log();
  EXPECT_EQ(network_rules(), 0);
  EXPECT_GT(CountRulesWithKey(kTestKey), 0);
  EXPECT_LT(CountRulesWithKey(kTestKey), all_rules);
  EXPECT_TRUE(RecorderAnswers(temp_));  // still recording

  // A broken configuration is reported and the running one is kept.
  std::ofstream(temp_.path() + "/config/recorder.json") << "{ not json";
  const int before_bad = CountRulesWithKey(kTestKey);
  kill(recorder, SIGHUP);
  EXPECT_TRUE(WaitFor([&] { return Log().find("not reloaded") != std::string::npos; }, 10s));
  EXPECT_EQ(CountRulesWithKey(kTestKey), before_bad);
  EXPECT_TRUE(RecorderAnswers(temp_));

  StopRecorder(recorder, SIGTERM, guard_->before());
}

TEST_F(LiveRecording, UnicastRefusesWhenAnotherDaemonHoldsThePid) {
  pid_t auditd = StartAuditd();
  pid_t recorder = Spawn(RecorderArgs("run", temp_, "unicast"), temp_.path() + "/recorder.log");
  guard_->Adopt(recorder);
  EXPECT_EQ(WaitExit(recorder, 10s), 1);
  guard_->Forget(recorder);
  std::string log = Log();
  EXPECT_NE(log.find("another audit daemon (pid " + std::to_string(auditd)), std::string::npos)
      << log;
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
  EXPECT_EQ(ReadAuditStatus()->pid, static_cast<uint32_t>(auditd));
  StopAuditd(auditd);
}

TEST_F(LiveRecording, MulticastNextToAuditd) {
  pid_t auditd = StartAuditd();
  AuditStatus with_auditd = *ReadAuditStatus();

  // auto picks multicast because auditd runs.
  pid_t recorder = StartRecorder(RecorderArgs("run", temp_, ""));
  EXPECT_EQ(Status().value("source", ""), "multicast");

  Workload workload = RunWorkload(temp_.path() + "/work");
  Db db(temp_.path() + "/monitor.db");
  CheckRecorded(db, workload);
  // auditd kept its connection and logged the same workload.
  EXPECT_EQ(ReadAuditStatus()->pid, static_cast<uint32_t>(auditd));

  StopRecorder(recorder, SIGINT, with_auditd);
  StopAuditd(auditd);
  EXPECT_NE(RunCapture("grep -c " + workload.marker + " " + temp_.path() + "/auditd/audit.log"),
            "0\n");
}

TEST_F(LiveRecording, PluginUnderAuditd) {
  WritePluginSetup(temp_.path(), kTestKey);
  pid_t auditd = Spawn({"/usr/sbin/auditd", "-n", "-c", temp_.path() + "/auditd"},
                       temp_.path() + "/auditd.out");
  guard_->Adopt(auditd);
  ASSERT_TRUE(WaitFor([&] { return RecorderAnswers(temp_); }, 20s))
      << Log("auditd.out") << Log("plugin.log");
  EXPECT_EQ(Status().value("source", ""), "plugin");
  int plugin_pid = daemon::ReadLivePid(temp_.path() + "/state/recorder.pid");
  ASSERT_GT(plugin_pid, 0);

  Workload workload = RunWorkload(temp_.path() + "/work");
  Db db(temp_.path() + "/monitor.db");
  CheckRecorded(db, workload);

  // Stopping auditd ends the plugin (SIGTERM or EOF): rules go, DB flushed.
  StopAuditd(auditd);
  EXPECT_TRUE(WaitFor([&] { return kill(plugin_pid, 0) != 0; }, 10s));
  // auditd decides the enabled flag it leaves behind; the guard restores it.
  CheckRestored(guard_->before(), /*check_enabled=*/false);
  EXPECT_NE(Log("plugin.log").find("stopped"), std::string::npos);
}

TEST(LiveStart, RefusesWhileDisabledUntilForced) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (state directory)";
  TempDir temp;
  SetUpTemp(temp);
  fs::create_directories(temp.path() + "/state");
  { std::ofstream(temp.path() + "/state/disabled") << "database over MaxRuntimeStorageSizeMB\n"; }
  std::string out = RunCapture(std::string(RECORDER_BINARY) + " start --no-db --state-dir " +
                               temp.path() + "/state; echo rc=$?");
  EXPECT_NE(out.find("disabled: database over MaxRuntimeStorageSizeMB"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
  std::string status = RunCapture(std::string(RECORDER_BINARY) + " status --state-dir " +
                                  temp.path() + "/state; echo rc=$?");
  EXPECT_NE(status.find("recorder: disabled"), std::string::npos) << status;
  EXPECT_NE(status.find("rc=3"), std::string::npos) << status;
  EXPECT_FALSE(RecorderAnswers(temp));
}

// ---------------------------------------------------------------------
// Pure parts.

TEST(EventCounters, RatesOverTheLastMinute) {
  daemon::EventCounters counters;
  int64_t start = 1'000'000;
  for (int second = 0; second < 10; ++second)
    for (int i = 0; i < 3; ++i) counters.Add(0, start + second * 1000 + i);
  counters.Add(2, start + 5000);
  EXPECT_EQ(counters.total(0), 30u);
  EXPECT_EQ(counters.total(), 31u);
  EXPECT_DOUBLE_EQ(counters.PerSecond(0, start + 10'000, start), 3.0);
  EXPECT_EQ(counters.LastSecond(0, start + 10'000), 3u);
  // Seventy seconds later the window has moved past all of it.
  EXPECT_DOUBLE_EQ(counters.PerSecond(0, start + 80'000, start), 0.0);
  EXPECT_EQ(counters.total(0), 30u);
}

TEST(RecordingSink, DropsOwnPidAndCounts) {
  VectorSink vector;
  daemon::RecordingSink sink(&vector, 42);
  EventBatch events(3);
  events[0].subject.pid = 42;
  events[1].subject.pid = 7;
  events[2].subject.pid = 42;
  events[1].body = FileEvent{};
  sink.set_now(5000);
  ASSERT_TRUE(sink.Consume(&events).ok());
  ASSERT_EQ(vector.events_.size(), 1u);
  EXPECT_EQ(vector.events_[0].subject.pid, 7);
  EXPECT_EQ(sink.self_dropped(), 2u);
  EXPECT_EQ(sink.counters().total(2), 1u);
}

TEST(PluginSource, SplitsLinesAcrossReadsAndSkipsOverlongOnes) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  PluginSource source(fds[0], /*buffer_size=*/64);
  std::vector<std::string> lines;
  auto handler = [&](std::string_view line) {
    lines.emplace_back(line);
    return Status::Ok();
  };
  std::string first = "type=EOE msg=audit(1.000:1): \ntype=EOE msg=audit(1.0";
  ASSERT_EQ(write(fds[1], first.data(), first.size()), static_cast<ssize_t>(first.size()));
  auto next = source.ReadPending(handler);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, PluginSource::Next::kMore);
  ASSERT_EQ(lines.size(), 1u);
  std::string rest = "00:2): \n" + std::string(200, 'x') + "\nlast";
  ASSERT_EQ(write(fds[1], rest.data(), rest.size()), static_cast<ssize_t>(rest.size()));
  close(fds[1]);
  for (int i = 0;
       i < 10 && (next = source.ReadPending(handler)).ok() && *next == PluginSource::Next::kMore;
       ++i) {
  }
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, PluginSource::Next::kEnd);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "type=EOE msg=audit(1.000:2): ");
  EXPECT_EQ(lines[2], "last");
  EXPECT_EQ(source.stats().too_long, 1u);
  close(fds[0]);
}

}  // namespace
}  // namespace recorder
