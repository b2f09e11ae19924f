// Shared by the live tests (tests/live_*_test.cc): when a live test can
// run, reading monitor.db while the recorder writes, auditd and plugin
// setups, and a fixture for a unicast recorder. Processes and commands are
// in run_command.h, the audit rules and AuditStateGuard in
// audit_state_guard.h, TempDir in temp_dir.h.
// Header-only so each live test file stays a plain *_test.cc.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
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
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "audit_state_guard.h"
#include "daemon/control_channel.h"
#include "run_command.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"
#include "temp_dir.h"
#include "wait_for.h"

namespace recorder::live_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// gtest's messages line by line, not in a pipe's 4 KB blocks: a live test
// that ctest kills on its timeout would otherwise take its failures with it.
inline const int kStdoutLineBuffered = std::setvbuf(stdout, nullptr, _IOLBF, 0);

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

// True when the recorder with state directory `state_dir` answers on its
// control socket: it serves the socket only from its event loop, so its
// rules are all installed and it is reading records.
inline bool RecorderReady(const std::string& state_dir) {
  return daemon::ControlRequest(state_dir + "/recorder.sock", "ping", 500).ok();
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
  // database may not exist yet), which last_error() then names.
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    last_error_.clear();
    if (!db_ && sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      last_error_ = "cannot open " + path_;
      sqlite3_close(db_);
      db_ = nullptr;
      return rows;
    }
    sqlite3_busy_timeout(db_, 2000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      last_error_ = sqlite3_errmsg(db_);
      return rows;
    }
    int step = SQLITE_ROW;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.push_back(text ? reinterpret_cast<const char*>(text) : "<null>");
      }
      rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) last_error_ = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return rows;
  }
  // Why the last Query failed; empty when it did not.
  const std::string& last_error() const { return last_error_; }
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
  std::string last_error_;
};

inline std::string Quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "''";
    else
      out += c;
  }
  return out + "'";
}

// ---------------------------------------------------------------------
// The workload and its checks.

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
  std::ofstream(dir + "/config/recorder.json") << nlohmann::json{
      {"dbLocation", dir + "/monitor.db"},
      {"stateDir", dir + "/state"},
      {"controlSocket", dir + "/state/recorder.sock"},
      {"pidFile", dir + "/state/recorder.pid"},
      {"logFile", dir + "/plugin.log"},
      {"ruleKey", rule_key}}.dump();
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
    fs::create_directories(temp_.path() + "/config");
  }

  // Writes config/recorder.json (unless empty), starts the recorder with
  // `extra` arguments and waits until its rules are in the kernel.
  pid_t StartRecorder(const std::string& recorder_json = "",
                      const std::vector<std::string>& extra = {}) {
    return StartRecorderOn(DbPath(), recorder_json, extra);
  }
  // The same, recording into `db` rather than DbPath().
  pid_t StartRecorderOn(const std::string& db, const std::string& recorder_json,
                        const std::vector<std::string>& extra = {}) {
    if (!recorder_json.empty())
      std::ofstream(temp_.path() + "/config/recorder.json") << recorder_json;
    std::vector<std::string> argv = {
        RECORDER_BINARY, "run",        "--db", db,         "--state-dir",
        StateDir(),      "--rule-key", key_,   "--config", temp_.path() + "/config",
        "--source",      "unicast"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_t recorder = Spawn(argv, temp_.path() + "/recorder.log");
    guard_->Adopt(recorder);
    EXPECT_TRUE(WaitFor([&] { return RecorderReady(StateDir()); }, 15s)) << ReadLog();
    return recorder;
  }

  // SIGTERM, a clean exit, and none of our rules left behind.
  void StopRecorder(pid_t recorder) {
    EXPECT_EQ(AuditStateGuard::StopChild(recorder), 0) << ReadLog();
    guard_->Forget(recorder);
    EXPECT_EQ(CountRulesWithKey(key_), 0);
  }

  // The running recorder's status JSON, asked over its control socket.
  nlohmann::json RecorderStatus() {
    auto status = daemon::ControlRequest(StateDir() + "/recorder.sock", "status");
    EXPECT_TRUE(status.ok()) << status.status().message();
    return status.ok() ? nlohmann::json::parse(*status) : nlohmann::json::object();
  }

  std::string DbPath() const { return temp_.path() + "/monitor.db"; }
  std::string StateDir() const { return temp_.path() + "/state"; }
  std::string ReadLog() const { return RunCapture("cat " + temp_.path() + "/recorder.log"); }

  const std::string key_;
  TempDir temp_;
  std::unique_ptr<AuditStateGuard> guard_;
};

}  // namespace recorder::live_test
