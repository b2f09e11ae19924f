// The live sources when the world around them changes, against the REAL
// kernel and a REAL auditd:
//  - `recorder plugin` across a full auditd restart (a new plugin process
//    records into the same monitor.db, as a second run) and across a
//    SIGHUP to auditd (the running plugin keeps recording).
//  - `recorder run --source unicast` losing the audit pid the way a real
//    daemon loses it: the kernel's send to its socket fails with
//    ECONNREFUSED, kauditd calls auditd_reset() (kernel/audit.c,
//    kauditd_thread -> kauditd_send_queue), and another daemon (auditd)
//    registers. The recorder must notice and say so in `status --json`.
//
// How the unicast test makes the kernel's send fail without touching the
// recorder's code: it takes a duplicate of the recorder's record socket
// with pidfd_getfd(2) and connect(2)s that socket to a netlink port that
// is not the kernel. netlink_getsockbyportid() then refuses every message
// the kernel sends to it (a connected netlink socket accepts only its
// peer): ECONNREFUSED, which kauditd treats as "the daemon is gone". The
// recorder process stays alive with its socket open, exactly like a
// daemon whose connection broke. (A full socket does NOT do it: since
// "audit: improve robustness of the audit queue handling" kauditd treats
// EAGAIN as "retry later", so SIGSTOP + flood only loses records.)
//
// Needs root, kernel audit and auditd; skips (saying why) otherwise, and
// when another audit daemon or someone's rules are in the way.
// AuditStateGuard (audit_state_guard.h) restores the audit state as found
// even when an assertion fails, and stops only our own children, by pid.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/control_channel.h"
#include "live_support.h"
#include "source/netlink_source.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-resiltest";

std::string UniqueMarker(const std::string& what) {
  return "resil" + what + std::to_string(getpid()) + "x" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 10000000);
}

std::string Cat(const std::string& path) { return RunCapture("cat " + path + " 2>/dev/null"); }

// The paths WritePluginSetup (live_support.h) uses under `temp`.
struct PluginSetup {
  explicit PluginSetup(const TempDir& temp)
      : auditd_dir(temp.path() + "/auditd"),
        db_path(temp.path() + "/monitor.db"),
        state_dir(temp.path() + "/state"),
        log_path(temp.path() + "/plugin.log") {
    WritePluginSetup(temp.path(), kTestKey);
  }
  std::string socket() const { return state_dir + "/recorder.sock"; }
  std::string pid_file() const { return state_dir + "/recorder.pid"; }
  bool Answers() const { return daemon::ControlRequest(socket(), "ping", 500).ok(); }

  std::string auditd_dir, db_path, state_dir, log_path;
};

// Makes this process the reaper of its orphaned descendants while it lives:
// when the test stops auditd, auditd's plugin (its child) is re-parented to
// us if it outlives auditd, so its exit status can be read with waitpid.
class ChildSubreaper {
 public:
  ChildSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~ChildSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
};

// How a plugin process ended, seen from the test: reaped by us (its exit
// status) or by auditd (only that it is gone).
struct PluginEnd {
  bool gone = false;
  bool reaped_here = false;
  int exit_status = -1;  // valid when reaped_here
};

PluginEnd AwaitPluginEnd(pid_t pid, std::chrono::milliseconds timeout) {
  PluginEnd end;
  WaitFor(
      [&] {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
          end.gone = end.reaped_here = true;
          end.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        }
        // Not our child (auditd reaped it, or has not exited yet).
        if (done < 0 && kill(pid, 0) != 0 && errno == ESRCH) end.gone = true;
        return end.gone;
      },
      timeout, 20ms);
  return end;
}

// The plugin processes auditd started, waited for on the way out of a test
// even when an assertion failed: declared before the AuditStateGuard, so
// this runs after the guard stopped auditd (which ends them by EOF). A
// plugin still finishing would otherwise remove its rules (same key) under
// the next test.
class PluginProcesses {
 public:
  ~PluginProcesses() {
    for (pid_t pid : pids_) {
      if (AwaitPluginEnd(pid, 15s).gone) continue;
      kill(pid, SIGKILL);
      AwaitPluginEnd(pid, 5s);
    }
  }
  void Add(pid_t pid) { pids_.push_back(pid); }

 private:
  std::vector<pid_t> pids_;
};

// auditd 3.0.9 closes its plugins' stdin and exits without waiting for
// them, so the plugin is re-parented to the test (ChildSubreaper) and its
// exit status is ours to read. Were auditd ever to reap its plugins
// itself, this check would need another way to see the status.
void ExpectReapedWithStatusZero(const PluginEnd& end, const std::string& log_path) {
  EXPECT_TRUE(end.reaped_here) << "the plugin's exit status was not readable here";
  if (end.reaped_here) {
    EXPECT_EQ(end.exit_status, 0) << Cat(log_path);
  }
}

// Runs /bin/echo with a unique argument; the row it must leave.
void RunEcho(const std::string& marker) {
  ASSERT_EQ(RunProgram({"/bin/echo", marker, "resilience"}), 0);
}
std::string EchoRowQuery(const std::string& marker) {
  return "SELECT pid FROM processes WHERE exe LIKE '%echo' AND cmdline LIKE '%" + marker + "%'";
}

// Starts auditd (ours, adopted by the guard) with the recorder as its
// plugin; the caller waits for the plugin to answer.
pid_t StartAuditdWithPlugin(AuditStateGuard& guard, const PluginSetup& setup,
                            const std::string& out_path) {
  pid_t auditd = Spawn({"/usr/sbin/auditd", "-n", "-c", setup.auditd_dir}, out_path);
  guard.Adopt(auditd);
  return auditd;
}

// auditd started with the plugin, once the plugin answers; the plugin's
// pid (0 when it never answered) is tracked by `plugins`.
struct PluginRun {
  pid_t auditd = 0;
  int plugin = 0;
};
PluginRun StartPluginUnderAuditd(AuditStateGuard& guard, const PluginSetup& setup,
                                 PluginProcesses& plugins, const std::string& out_path) {
  PluginRun run{StartAuditdWithPlugin(guard, setup, out_path), 0};
  if (!WaitFor([&] { return setup.Answers(); }, 20s)) {
    ADD_FAILURE() << "the plugin never answered\n" << Cat(out_path) << Cat(setup.log_path);
    return run;
  }
  run.plugin = daemon::ReadLivePid(setup.pid_file());
  if (run.plugin > 0) plugins.Add(run.plugin);
  return run;
}

// Stops the run's auditd (ours, by pid): its plugin sees SIGTERM and EOF
// on stdin and must finish cleanly (reaped here with status 0). Whether
// the plugin is gone.
bool StopPluginRun(AuditStateGuard& guard, const PluginRun& run, const PluginSetup& setup,
                   const std::string& out_path) {
  EXPECT_EQ(AuditStateGuard::StopChild(run.auditd), 0) << Cat(out_path);
  guard.Forget(run.auditd);
  PluginEnd end = AwaitPluginEnd(run.plugin, 15s);
  if (!end.gone) {
    ADD_FAILURE() << "the plugin did not exit\n" << Cat(setup.log_path);
    return false;
  }
  ExpectReapedWithStatusZero(end, setup.log_path);
  return true;
}

void ExpectOnlyOurRulesGone(const AuditStateGuard& guard) {
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0) << RunCapture("auditctl -l");
  EXPECT_EQ(RuleLines(), guard.rules_before()) << "foreign rules must be untouched";
}

// ---------------------------------------------------------------------
// 1. The plugin across a full auditd restart.

// The recorder as auditd's plugin in a temp dir of its own. The members
// end in the reverse of their order, as the locals they replace did: the
// guard stops auditd (which ends its plugins by EOF), then `plugins_`
// waits for them, and this process stops being their reaper last.
class PluginUnderAuditd : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/true);
    if (!skip.empty()) GTEST_SKIP() << skip;
    guard_ = std::make_unique<AuditStateGuard>(kTestKey);
    setup_ = std::make_unique<PluginSetup>(temp_);
  }

  ChildSubreaper reaper_;
  PluginProcesses plugins_;
  std::unique_ptr<AuditStateGuard> guard_;
  TempDir temp_;
  std::unique_ptr<PluginSetup> setup_;
};

TEST_F(PluginUnderAuditd, SurvivesAnAuditdRestart) {
  Db db(setup_->db_path);

  // First auditd, first plugin process, first workload.
  const PluginRun first =
      StartPluginUnderAuditd(*guard_, *setup_, plugins_, temp_.path() + "/auditd1.out");
  const int first_plugin = first.plugin;
  ASSERT_GT(first_plugin, 0);
  const std::string first_marker = UniqueMarker("first");
  RunEcho(first_marker);
  ASSERT_FALSE(db.Await(EchoRowQuery(first_marker), 15s).empty()) << "first workload not recorded\n"
                                                                  << Cat(setup_->log_path);

  // Full restart: stop auditd (ours, by pid); its plugin sees SIGTERM and
  // EOF on stdin and must finish cleanly before the next one starts.
  ASSERT_TRUE(StopPluginRun(*guard_, first, *setup_, temp_.path() + "/auditd1.out"));
  // It cleaned up after itself: nothing left that could stop the next one.
  EXPECT_FALSE(fs::exists(setup_->pid_file()));
  EXPECT_FALSE(fs::exists(setup_->socket()));
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0) << "the first plugin left its rules";
  EXPECT_NE(Cat(setup_->log_path).find("stopped ("), std::string::npos) << Cat(setup_->log_path);

  // Same configuration again: a new plugin process, same monitor.db.
  const PluginRun second =
      StartPluginUnderAuditd(*guard_, *setup_, plugins_, temp_.path() + "/auditd2.out");
  ASSERT_GT(second.plugin, 0);
  EXPECT_NE(second.plugin, first_plugin);
  auto status = daemon::ControlRequest(setup_->socket(), "status");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(nlohmann::json::parse(*status).value("source", ""), "plugin");

  const std::string second_marker = UniqueMarker("second");
  RunEcho(second_marker);
  // The deadline is the bound: a plugin that records, but only after its
  // batch delay plus the host's scheduling, is not late.
  ASSERT_FALSE(db.Await(EchoRowQuery(second_marker), 10s).empty())
      << "second workload not recorded within 10 s of the restart\n"
      << Cat(setup_->log_path);
  EXPECT_FALSE(db.Query(EchoRowQuery(first_marker)).empty()) << "the first run's rows are gone";

  ASSERT_TRUE(StopPluginRun(*guard_, second, *setup_, temp_.path() + "/auditd2.out"));

  // Two runs, one per plugin process, neither stopped by an error.
  auto runs = db.Query("SELECT source, COALESCE(error, '') FROM runs ORDER BY run_id");
  ASSERT_EQ(runs.size(), 2u) << Cat(setup_->log_path);
  for (const auto& run : runs) {
    EXPECT_EQ(run[0], "live:plugin");
    EXPECT_EQ(run[1], "") << "run stopped by an error";
  }
  std::string log = Cat(setup_->log_path);
  EXPECT_EQ(log.find("[error]"), std::string::npos) << log;
  ExpectOnlyOurRulesGone(*guard_);
  EXPECT_EQ(ReadAuditStatus()->pid, guard_->before().pid);
}

// The bonus variant: SIGHUP makes auditd re-read its configuration and
// plugin files; an unchanged plugin keeps running (auditd forwards the
// SIGHUP, the recorder re-reads recorder.json) and keeps recording.
TEST_F(PluginUnderAuditd, KeepsRecordingAcrossAnAuditdSighup) {
  Db db(setup_->db_path);

  const PluginRun run =
      StartPluginUnderAuditd(*guard_, *setup_, plugins_, temp_.path() + "/auditd.out");
  const pid_t auditd = run.auditd;
  const int plugin = run.plugin;
  ASSERT_GT(plugin, 0);
  const std::string before_marker = UniqueMarker("prehup");
  RunEcho(before_marker);
  ASSERT_FALSE(db.Await(EchoRowQuery(before_marker), 15s).empty()) << Cat(setup_->log_path);

  ASSERT_EQ(kill(auditd, SIGHUP), 0);
  // The plugin re-reads its configuration: wait for it to say so.
  EXPECT_TRUE(WaitFor(
      [&] {
        return Cat(setup_->log_path).find("SIGHUP: configuration reloaded") != std::string::npos;
      },
      10s))
      << Cat(setup_->log_path) << Cat(temp_.path() + "/auditd.out");
  EXPECT_TRUE(WaitFor([&] { return setup_->Answers(); }, 10s));
  EXPECT_EQ(daemon::ReadLivePid(setup_->pid_file()), plugin) << "auditd restarted the plugin";
  EXPECT_EQ(kill(plugin, 0), 0);
  EXPECT_GT(CountRulesWithKey(kTestKey), 0) << "rules gone after the reload";

  const std::string after_marker = UniqueMarker("posthup");
  RunEcho(after_marker);
  EXPECT_FALSE(db.Await(EchoRowQuery(after_marker), 10s).empty()) << "not recorded after SIGHUP\n"
                                                                  << Cat(setup_->log_path);

  ASSERT_TRUE(StopPluginRun(*guard_, run, *setup_, temp_.path() + "/auditd.out"));
  auto runs = db.Query("SELECT COALESCE(error, '') FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0][0], "");
  ExpectOnlyOurRulesGone(*guard_);
}

// ---------------------------------------------------------------------
// 2. Unicast: the kernel drops the recorder, auditd takes the pid.

// A duplicate (in this process) of `pid`'s NETLINK_AUDIT socket with the
// largest receive buffer: the recorder's record socket (it asks for
// 16 MiB; its control and rule sockets keep the default). -1 if none.
int DuplicateRecordSocket(pid_t pid, std::string* why) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    *why = std::string("pidfd_open: ") + std::strerror(errno);
    return -1;
  }
  int best = -1;
  int best_size = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code link_error;
    std::string target = fs::read_symlink(entry.path(), link_error).string();
    if (link_error || target.rfind("socket:", 0) != 0) continue;
    int target_fd = std::stoi(entry.path().filename().string());
    int dup = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, target_fd, 0));
    if (dup < 0) {
      *why = std::string("pidfd_getfd: ") + std::strerror(errno);
      continue;
    }
    int domain = 0, protocol = -1, size = 0;
    socklen_t length = sizeof(int);
    getsockopt(dup, SOL_SOCKET, SO_DOMAIN, &domain, &length);
    length = sizeof(int);
    getsockopt(dup, SOL_SOCKET, SO_PROTOCOL, &protocol, &length);
    length = sizeof(int);
    getsockopt(dup, SOL_SOCKET, SO_RCVBUF, &size, &length);
    if (domain == AF_NETLINK && protocol == NETLINK_AUDIT && size > best_size) {
      if (best >= 0) close(best);
      best = dup;
      best_size = size;
    } else {
      close(dup);
    }
  }
  close(pidfd);
  if (best >= 0 && best_size < (4 << 20)) {
    *why = "no NETLINK_AUDIT socket with the record socket's large buffer";
    close(best);
    return -1;
  }
  if (best < 0 && why->empty()) *why = "no NETLINK_AUDIT socket found";
  return best;
}

nlohmann::json RecorderStatus(const std::string& state_dir) {
  std::string out = RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " +
                               state_dir + " 2>/dev/null");
  return nlohmann::json::parse(out, nullptr, false);
}

// The tests of a lost audit pid. Auditing is off before the test's reader
// starts, so that enabling it is the reader's own change: with it already
// on, the checks after the reader stops would pass even if it turned
// auditing off under the new daemon. The guard restores the flag.
class AuditPidLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/true);
    if (!skip.empty()) GTEST_SKIP() << skip;
    guard_ = std::make_unique<AuditStateGuard>(kTestKey);
    RunCapture("auditctl -e 0");
    ASSERT_EQ(ReadAuditStatus()->enabled, 0u);
    WriteAuditdConfig(AuditdDir());
  }

  // A real auditd in the foreground, its output in `out` under the temp
  // dir; the guard stops it if the test does not.
  pid_t SpawnAuditd(const std::string& out) {
    pid_t auditd = Spawn({"/usr/sbin/auditd", "-n", "-c", AuditdDir()}, temp_.path() + "/" + out);
    guard_->Adopt(auditd);
    return auditd;
  }
  // Whether `pid` became the kernel's audit daemon within 10 s.
  static bool BecomesAuditPid(pid_t pid) {
    return WaitFor([&] { return ReadAuditStatus()->pid == static_cast<uint32_t>(pid); }, 10s);
  }
  // Stops the auditd of SpawnAuditd(out): the audit pid is the one found
  // before the test again.
  void StopAuditd(pid_t auditd, const std::string& out) {
    EXPECT_EQ(AuditStateGuard::StopChild(auditd), 0) << Cat(temp_.path() + "/" + out);
    guard_->Forget(auditd);
    EXPECT_EQ(ReadAuditStatus()->pid, guard_->before().pid);
  }

  std::string AuditdDir() const { return temp_.path() + "/auditd"; }

  TempDir temp_;
  std::unique_ptr<AuditStateGuard> guard_;
};

TEST_F(AuditPidLoss, UnicastNoticesLosingTheAuditPid) {
  fs::create_directories(temp_.path() + "/config");
  const std::string state_dir = temp_.path() + "/state";
  pid_t recorder = Spawn(
      {RECORDER_BINARY, "run", "--source", "unicast", "--db", temp_.path() + "/monitor.db",
       "--state-dir", state_dir, "--rule-key", kTestKey, "--config", temp_.path() + "/config"},
      temp_.path() + "/recorder.log");
  guard_->Adopt(recorder);
  ASSERT_TRUE(WaitFor(
      [&] { return daemon::ControlRequest(state_dir + "/recorder.sock", "ping", 500).ok(); }, 15s))
      << Cat(temp_.path() + "/recorder.log");
  ASSERT_EQ(ReadAuditStatus()->pid, static_cast<uint32_t>(recorder));
  nlohmann::json status = RecorderStatus(state_dir);
  ASSERT_FALSE(status.is_discarded());
  EXPECT_EQ(status.value("audit_pid_lost", true), false);

  // Break the kernel's unicast path to the recorder (see the top comment).
  std::string why;
  int record_socket = DuplicateRecordSocket(recorder, &why);
  if (record_socket < 0) GTEST_SKIP() << "cannot reach the recorder's record socket: " << why;
  sockaddr_nl elsewhere{};
  elsewhere.nl_family = AF_NETLINK;
  elsewhere.nl_pid = 0x7ffffff0;  // not the kernel (0): the kernel's sends are refused
  ASSERT_EQ(connect(record_socket, reinterpret_cast<sockaddr*>(&elsewhere), sizeof(elsewhere)), 0)
      << std::strerror(errno);
  close(record_socket);  // the recorder still holds its own descriptor

  // The next record the kernel sends fails; kauditd resets its daemon.
  // (The exec rules make /bin/true produce records.)
  EXPECT_TRUE(WaitFor(
      [&] {
        RunProgram({"/bin/true"});
        return ReadAuditStatus()->pid == 0;
      },
      10s))
      << "the kernel kept pid " << ReadAuditStatus()->pid << " as its audit daemon";
  EXPECT_EQ(kill(recorder, 0), 0) << "the recorder must live on";

  // Somebody else becomes the audit daemon: a real auditd.
  pid_t auditd = SpawnAuditd("auditd.out");
  ASSERT_TRUE(BecomesAuditPid(auditd)) << Cat(temp_.path() + "/auditd.out");

  // The recorder's periodic status check (every 5 s) notices, and says
  // who holds the connection now.
  const std::string holder = "pid " + std::to_string(auditd);
  EXPECT_TRUE(WaitFor(
      [&] {
        status = RecorderStatus(state_dir);
        return !status.is_discarded() && status.value("audit_pid_lost", false) &&
               status.value("warning", "").find(holder) != std::string::npos;
      },
      15s))
      << status.dump() << "\n"
      << Cat(temp_.path() + "/recorder.log");
  EXPECT_EQ(status.value("state", ""), "running");
  EXPECT_EQ(status.value("audit_pid", 0u), static_cast<uint32_t>(auditd));
  EXPECT_NE(Cat(temp_.path() + "/recorder.log").find("LOST THE AUDIT CONNECTION: " + holder),
            std::string::npos)
      << Cat(temp_.path() + "/recorder.log");

  // A clean stop that leaves auditd its connection and its settings.
  const AuditStatus under_auditd = *ReadAuditStatus();
  kill(recorder, SIGTERM);
  EXPECT_EQ(WaitExit(recorder, 15s), 0) << Cat(temp_.path() + "/recorder.log");
  guard_->Forget(recorder);
  const AuditStatus after_recorder = *ReadAuditStatus();
  EXPECT_EQ(after_recorder.pid, static_cast<uint32_t>(auditd))
      << "the recorder unregistered the new audit daemon";
  EXPECT_EQ(after_recorder.enabled, under_auditd.enabled)
      << "the recorder changed the enabled flag under the new audit daemon";
  // The backlog settings were the recorder's own change: put back.
  EXPECT_EQ(after_recorder.backlog_limit, guard_->before().backlog_limit);
  EXPECT_EQ(after_recorder.backlog_wait_time, guard_->before().backlog_wait_time);
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
  StopAuditd(auditd, "auditd.out");
  ExpectOnlyOurRulesGone(*guard_);
}

// The same loss seen by NetlinkSource itself, in this process, through the
// kernel's other detection path: no record is sent after the connection
// breaks, so it is auditd's own registration that finds it dead (AUDIT_SET
// pid -> audit_replace() -> ECONNREFUSED -> auditd_reset(), then the
// "replacing a healthy auditd" check passes).
TEST_F(AuditPidLoss, NetlinkSourceReportsTheNewHolder) {
  NetlinkOptions options;
  options.mode = NetlinkMode::kUnicast;
  Result<std::unique_ptr<NetlinkSource>> opened = NetlinkSource::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<NetlinkSource> source = std::move(*opened);
  const uint32_t self = static_cast<uint32_t>(getpid());
  ASSERT_EQ(ReadAuditStatus()->pid, self);
  Result<AuditStatus> checked = source->CheckStatus();
  ASSERT_TRUE(checked.ok());
  EXPECT_FALSE(source->pid_lost());
  EXPECT_EQ(source->holder_pid(), self);

  // While the connection works, nobody can take over.
  pid_t refused = SpawnAuditd("refused.out");
  // (The same configuration that works below: only the healthy holder
  // differs. auditd says why on syslog, not on its output.)
  EXPECT_NE(WaitExit(refused, 10s), 0) << "auditd replaced a healthy audit daemon";
  guard_->Forget(refused);
  ASSERT_EQ(ReadAuditStatus()->pid, self);

  sockaddr_nl elsewhere{};
  elsewhere.nl_family = AF_NETLINK;
  elsewhere.nl_pid = 0x7ffffff0;
  ASSERT_EQ(connect(source->fd(), reinterpret_cast<sockaddr*>(&elsewhere), sizeof(elsewhere)), 0)
      << std::strerror(errno);

  pid_t auditd = SpawnAuditd("auditd.out");
  ASSERT_TRUE(BecomesAuditPid(auditd)) << Cat(temp_.path() + "/auditd.out");
  checked = source->CheckStatus();
  ASSERT_TRUE(checked.ok());
  EXPECT_TRUE(source->pid_lost());
  EXPECT_EQ(source->holder_pid(), static_cast<uint32_t>(auditd));
  EXPECT_EQ(checked->pid, static_cast<uint32_t>(auditd));

  // Closing neither unregisters the new holder nor turns auditing off
  // under it.
  const uint32_t enabled_under_auditd = checked->enabled;
  EXPECT_TRUE(source->Close().ok());
  EXPECT_EQ(ReadAuditStatus()->pid, static_cast<uint32_t>(auditd));
  EXPECT_EQ(ReadAuditStatus()->enabled, enabled_under_auditd);
  EXPECT_TRUE(source->pid_lost()) << "the loss stays recorded";
  StopAuditd(auditd, "auditd.out");
}

}  // namespace
}  // namespace recorder
