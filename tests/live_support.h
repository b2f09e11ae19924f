// Shared by the live tests (tests/live_*_test.cc): starting and stopping
// our own processes, reading the kernel's rules, restoring the audit state
// (AuditStateGuard), and reading monitor.db while the recorder writes.
// Header-only so each live test file stays a plain *_test.cc.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rules/audit_control.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"
#include "wait_for.h"

namespace recorder::live_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr char kForeignKey[] = "recorder-test-foreign";
inline constexpr char kForeignRule[] =
    "-a always,exit -F arch=b64 -S sethostname -F key=recorder-test-foreign";

// ---------------------------------------------------------------------
// Small process helpers.

inline std::string RunCapture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(("( " + command + " ) 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// fork/exec `argv`; stdin from `stdin_path` (or /dev/null), stdout and
// stderr to `log_path` (or /dev/null). Returns the child's pid.
inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path = "") {
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    int out = log_path.empty() ? null_fd : open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
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

// Waits for `pid` (our child) up to `timeout`; its exit status or -1.
inline int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -1;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

inline int RunProgram(const std::vector<std::string>& argv) { return WaitExit(Spawn(argv), 20s); }

inline std::vector<std::string> RuleLines() {
  std::vector<std::string> lines;
  std::istringstream in(RunCapture("auditctl -l"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-a ", 0) == 0 || line.rfind("-w ", 0) == 0) lines.push_back(line);
  return lines;
}

inline int CountRulesWithKey(const std::string& key) {
  int count = 0;
  for (const std::string& line : RuleLines())
    if (line.find("key=" + key) != std::string::npos &&
        line.find("key=" + key + "-") == std::string::npos)
      ++count;
  return count;
}

inline void DeleteRulesWithKey(const std::string& key) {
  for (const std::string& line : RuleLines()) {
    size_t at = line.find("key=" + key);
    if (at == std::string::npos || at + 4 + key.size() != line.size()) continue;
    std::string command = "auditctl -d" + line.substr(2);
    RunCapture(command);
  }
}

// ---------------------------------------------------------------------
// The guard: what `auditctl -s` and `-l` said before; restores it.

class AuditStateGuard {
 public:
  // `test_key`: the rule key of the test's recorder, whose rules go.
  explicit AuditStateGuard(std::string test_key) : test_key_(std::move(test_key)) {
    Result<AuditStatus> status = ReadAuditStatus();
    if (status.ok()) before_ = *status;
    rules_before_ = RuleLines();
  }
  ~AuditStateGuard() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) StopChild(*it);
    DeleteRulesWithKey(test_key_);
    DeleteRulesWithKey(kForeignKey);
    Result<AuditStatus> now = ReadAuditStatus();
    if (now.ok() && now->enabled != 2) {
      if (now->enabled != before_.enabled && before_.enabled <= 1)
        RunCapture("auditctl -e " + std::to_string(before_.enabled));
      if (now->backlog_limit != before_.backlog_limit)
        RunCapture("auditctl -b " + std::to_string(before_.backlog_limit));
      if (now->backlog_wait_time != before_.backlog_wait_time)
        RunCapture("auditctl --backlog_wait_time " + std::to_string(before_.backlog_wait_time));
    }
  }
  void Adopt(pid_t pid) { children_.push_back(pid); }
  // SIGTERM, then SIGKILL after a grace period; only our own children.
  static int StopChild(pid_t pid) {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int status = WaitExit(pid, 15s);
    if (status == -1) {
      kill(pid, SIGKILL);
      status = WaitExit(pid, 5s);
    }
    return status;
  }
  void Forget(pid_t pid) { std::erase(children_, pid); }
  const AuditStatus& before() const { return before_; }
  const std::vector<std::string>& rules_before() const { return rules_before_; }

 private:
  std::string test_key_;
  AuditStatus before_;
  std::vector<std::string> rules_before_;
  std::vector<pid_t> children_;
};

// Why a live test cannot run here, or "" when it can.
inline std::string LiveSkipReason(const std::string& test_key, bool needs_free_pid) {
  if (geteuid() != 0) return "live audit tests need root";
  Result<AuditStatus> status = ReadAuditStatus();
  if (!status.ok()) return "kernel audit unavailable: " + status.status().message();
  if (status->enabled == 2) return "kernel audit is immutable (-e 2); not touching it";
  if (AuditdRunning()) return "a foreign auditd is running; not disturbing it";
  if (needs_free_pid && status->pid != 0)
    return "another process (pid " + std::to_string(status->pid) + ") is the audit daemon";
  if (CountRulesWithKey("recorder-capture") > 0)
    return "someone's recorder-capture rules are loaded; not disturbing their capture";
  if (CountRulesWithKey(test_key) > 0) return test_key + " rules already loaded (another run?)";
  if (access("/usr/sbin/auditd", X_OK) != 0 && !needs_free_pid) return "auditd is not installed";
  return "";
}

// ---------------------------------------------------------------------
// Reading monitor.db while the recorder writes (WAL: readers are fine).

class Db {
 public:
  explicit Db(const std::string& path) : path_(path) {}
  ~Db() {
    if (db_) sqlite3_close(db_);
  }
  // Rows of `sql` as strings (NULL -> "<null>"); empty on any error (the
  // database may not exist yet).
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    if (!db_ && sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      return rows;
    }
    sqlite3_busy_timeout(db_, 2000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.push_back(text ? reinterpret_cast<const char*>(text) : "<null>");
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    return rows;
  }
  // Queries until `sql` returns at least `at_least` rows or `timeout`
  // passes; returns the last answer (fewer rows on timeout).
  std::vector<std::vector<std::string>> Await(const std::string& sql,
                                              std::chrono::milliseconds timeout = 15s,
                                              size_t at_least = 1) {
    std::vector<std::vector<std::string>> rows;
    WaitFor([&] { return (rows = Query(sql)).size() >= at_least; }, timeout);
    return rows;
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

inline std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += "''";
    else out += c;
  }
  return out + "'";
}

// ---------------------------------------------------------------------
// The workload and its checks.

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/recorder-live-XXXXXX";
    path = mkdtemp(pattern);
    chmod(path.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code error;
    fs::remove_all(path, error);
  }
  std::string path;
};

// auditd in the foreground with its log, and its plugins dir, in `dir`.
inline void WriteAuditdConfig(const std::string& dir) {
  fs::create_directories(dir + "/plugins.d");
  std::ofstream conf(dir + "/auditd.conf");
  conf << "log_file = " << dir << "/audit.log\n"
       << "log_format = ENRICHED\nwrite_logs = yes\nflush = NONE\nfreq = 50\n"
       << "max_log_file = 8\nnum_logs = 2\npriority_boost = 0\nname_format = NONE\n"
       << "max_log_file_action = ROTATE\nspace_left = 2\nspace_left_action = IGNORE\n"
       << "admin_space_left = 1\nadmin_space_left_action = IGNORE\n"
       << "disk_full_action = IGNORE\ndisk_error_action = IGNORE\n"
       << "use_libwrap = no\ntcp_listen_queue = 5\ntcp_max_per_addr = 1\n"
       << "tcp_client_max_idle = 0\ntransport = TCP\ndistribute_network = no\n"
       << "q_depth = 2000\noverflow_action = SYSLOG\nmax_restarts = 10\n"
       << "plugin_dir = " << dir << "/plugins.d\n";
  conf.close();
  chmod((dir + "/auditd.conf").c_str(), 0600);
}

// The recorder as auditd's plugin, everything under `dir`: auditd's
// configuration in DIR/auditd, plugins.d/recorder.conf running `recorder
// plugin --config=DIR/config`, and that recorder.json (auditd passes a
// plugin two arguments at most, so the rest is configuration): database
// DIR/monitor.db, state DIR/state, log DIR/plugin.log.
inline void WritePluginSetup(const std::string& dir, const std::string& rule_key) {
  const std::string auditd_dir = dir + "/auditd";
  fs::create_directories(dir + "/config");
  WriteAuditdConfig(auditd_dir);
  std::ofstream(dir + "/config/recorder.json")
      << nlohmann::json{{"dbLocation", dir + "/monitor.db"},
                        {"stateDir", dir + "/state"},
                        {"controlSocket", dir + "/state/recorder.sock"},
                        {"pidFile", dir + "/state/recorder.pid"},
                        {"logFile", dir + "/plugin.log"},
                        {"ruleKey", rule_key}}
             .dump();
  {
    std::ofstream plugin(auditd_dir + "/plugins.d/recorder.conf");
    plugin << "active = yes\ndirection = out\npath = " << RECORDER_BINARY
           << "\ntype = always\nargs = plugin --config=" << dir << "/config\nformat = string\n";
  }
  chmod((auditd_dir + "/plugins.d/recorder.conf").c_str(), 0600);
}

// A fixture for tests that run `recorder run --source unicast` in a temp
// dir with their own rule key: skips (saying why) when the machine cannot,
// and the guard restores the audit state however the test ends.
class UnicastRecorderTest : public ::testing::Test {
 protected:
  explicit UnicastRecorderTest(std::string key) : key_(std::move(key)) {}

  void SetUp() override {
    std::string skip = LiveSkipReason(key_, /*needs_free_pid=*/true);
    if (!skip.empty()) GTEST_SKIP() << skip;
    guard_ = std::make_unique<AuditStateGuard>(key_);
    fs::create_directories(temp_.path + "/config");
  }

  // Writes config/recorder.json (unless empty), starts the recorder with
  // `extra` arguments and waits until its rules are in the kernel.
  pid_t StartRecorder(const std::string& recorder_json = "",
                      const std::vector<std::string>& extra = {}) {
    if (!recorder_json.empty()) std::ofstream(temp_.path + "/config/recorder.json") << recorder_json;
    std::vector<std::string> argv = {RECORDER_BINARY, "run",       "--db",    DbPath(),
                                     "--state-dir",   StateDir(),  "--rule-key", key_,
                                     "--config",      temp_.path + "/config", "--source",
                                     "unicast"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_t recorder = Spawn(argv, temp_.path + "/recorder.log");
    guard_->Adopt(recorder);
    EXPECT_TRUE(WaitFor([&] { return CountRulesWithKey(key_) > 0; }, 15s)) << ReadLog();
    // Records already in flight when the rules went in are not ours to test.
    std::this_thread::sleep_for(300ms);
    return recorder;
  }

  // SIGTERM, a clean exit, and none of our rules left behind.
  void StopRecorder(pid_t recorder) {
    EXPECT_EQ(AuditStateGuard::StopChild(recorder), 0) << ReadLog();
    guard_->Forget(recorder);
    EXPECT_EQ(CountRulesWithKey(key_), 0);
  }

  std::string DbPath() const { return temp_.path + "/monitor.db"; }
  std::string StateDir() const { return temp_.path + "/state"; }
  std::string ReadLog() const { return RunCapture("cat " + temp_.path + "/recorder.log"); }

  const std::string key_;
  TempDir temp_;
  std::unique_ptr<AuditStateGuard> guard_;
};

}  // namespace recorder::live_test
