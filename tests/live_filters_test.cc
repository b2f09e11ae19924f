// Filters in live recording: `recorder run --source unicast` with a
// filters.json that excludes one program (a copy of true under the test's
// temp dir). Its execs must be absent from monitor.db while another copy's
// are present, status counts what the filters left out, the exclusion is
// pushed down as a "never" rule under the test's key, and SIGHUP reloads
// the filters (a bad file keeps the previous ones, a good one replaces them
// and the kernel rules with them). An edit of a filter file reloads without
// a signal, and no exec is lost across reloads under an exec flood.
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/control_channel.h"
#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-filtertest";

class LiveFilters : public UnicastRecorderTest {
 protected:
  LiveFilters() : UnicastRecorderTest(kTestKey) {}

  // A copy of /bin/true at `path` (its own exe, so a filter can name it).
  static void CopyTrue(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    fs::copy_file("/bin/true", path, fs::copy_options::overwrite_existing);
    fs::permissions(path, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }

  void WriteFilters(const std::string& text) {
    std::ofstream(temp_.path() + "/config/filters.json") << text;
  }

  static std::string ExcludeExe(const std::string& exe) {
    return nlohmann::json{{"process", {{"exclude", {{{"exe", exe}}}}}}}.dump();
  }

  // Runs `exe` `times` times.
  static void RunTimes(const std::string& exe, int times) {
    EXPECT_EQ(RunCapture("for i in $(seq " + std::to_string(times) + "); do " + ShellQuote(exe) +
                         "; done; echo done"),
              "done\n");
  }

  static int Count(Db& db, const std::string& exe) {
    auto rows = db.Query("SELECT count(*) FROM processes WHERE exe = " + Quote(exe));
    return rows.empty() ? -1 : std::stoi(rows[0][0]);
  }

  // SIGHUP with a bad filter file: waits until status counts the failure.
  void ReloadBad(pid_t recorder) {
    const uint64_t before = RecorderStatus()["filters"].value("reload_failures", uint64_t{0});
    ASSERT_EQ(kill(recorder, SIGHUP), 0);
    nlohmann::json after;
    EXPECT_TRUE(WaitFor(
        [&] {
          after = RecorderStatus()["filters"];
          return after.value("reload_failures", uint64_t{0}) > before;
        },
        10s))
        << after.dump() << ReadLog();
  }
};

TEST_F(LiveFilters, AnExcludedProgramIsLeftOutPushedDownAndReloaded) {
  const std::string agent = temp_.path() + "/bin/filtered-agent";
  const std::string app = temp_.path() + "/bin/kept-app";
  CopyTrue(agent);
  CopyTrue(app);
  WriteFilters(ExcludeExe(agent));
  pid_t recorder = StartRecorder();

  // Pushed down: a never rule on the agent's exe, under our key.
  const std::string rules = RunCapture("auditctl -l");
  EXPECT_NE(rules.find("-a never,exit"), std::string::npos) << rules;
  EXPECT_NE(rules.find("exe=" + agent), std::string::npos) << rules;
  EXPECT_NE(rules.find("key=" + std::string(kTestKey)), std::string::npos) << rules;

  RunTimes(agent, 5);
  RunTimes(app, 5);
  Db db(DbPath());
  // The app's execs arrive after the agent's: once they are in, the
  // agent's would be too.
  ASSERT_EQ(db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(app), 15s, 5).size(), 5u)
      << ReadLog();
  EXPECT_EQ(Count(db, agent), 0);

  // Status: the filter file, the kernel rules and the agent's 5 execs
  // left out (execs are never pushed down: the process table needs them).
  nlohmann::json status = RecorderStatus();
  const nlohmann::json& filters = status["filters"];
  ASSERT_EQ(filters["files"].size(), 1u) << status.dump();
  EXPECT_EQ(filters["files"][0], temp_.path() + "/config/filters.json");
  EXPECT_GT(filters.value("kernel_rules", 0), 0) << status.dump();
  EXPECT_GE(filters["dropped_by_type"].value("process", 0), 5) << status.dump();
  EXPECT_EQ(status["rules"].value("missing", -1), 0) << status.dump();
  const std::string text = RunCapture(std::string(RECORDER_BINARY) + " status --state-dir " +
                                      StateDir() + " --config " + temp_.path() + "/config");
  EXPECT_NE(text.find("filters: 1 file(s)"), std::string::npos) << text;

  // A bad file on reload: the previous filters stay (the agent is still
  // left out, its rule still installed) and status says why.
  WriteFilters(R"({"process": {"exclude": [{"cmdline": {"regex": "a(b"}}]}})");
  ReloadBad(recorder);
  status = RecorderStatus();
  EXPECT_NE(status["filters"].value("last_reload_error", "").find("bad regex"), std::string::npos)
      << status.dump();
  EXPECT_NE(RunCapture("auditctl -l").find("exe=" + agent), std::string::npos);
  RunTimes(agent, 3);
  RunTimes(app, 3);
  ASSERT_EQ(db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(app), 15s, 8).size(), 8u);
  EXPECT_EQ(Count(db, agent), 0);

  // A good file: now the app is left out and the agent recorded; the
  // kernel rules follow.
  WriteFilters(ExcludeExe(app));
  ASSERT_EQ(kill(recorder, SIGHUP), 0);
  EXPECT_TRUE(
      WaitFor([&] { return !RecorderStatus()["filters"].contains("last_reload_error"); }, 10s))
      << ReadLog();
  const std::string reloaded_rules = RunCapture("auditctl -l");
  EXPECT_EQ(reloaded_rules.find("exe=" + agent), std::string::npos) << reloaded_rules;
  EXPECT_NE(reloaded_rules.find("exe=" + app), std::string::npos) << reloaded_rules;
  RunTimes(app, 3);
  RunTimes(agent, 3);
  EXPECT_EQ(db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(agent), 15s, 3).size(), 3u)
      << ReadLog();
  EXPECT_EQ(Count(db, app), 8);
  StopRecorder(recorder);
}

// What is pushed down is not emitted by the kernel at all: the excluded
// agent's file writes never reach the recorder (the user-space filter
// drops none of them), while its exec, which is never pushed down, does
// reach it and is dropped there; a kept program's writes are recorded.
TEST_F(LiveFilters, PushedDownEventsAreNotEmittedWhileOthersAre) {
  const std::string agent = temp_.path() + "/bin/pushed-agent";
  const std::string app = temp_.path() + "/bin/kept-shell";
  for (const std::string& copy : {agent, app}) {
    fs::create_directories(fs::path(copy).parent_path());
    fs::copy_file("/bin/bash", copy, fs::copy_options::overwrite_existing);
    fs::permissions(copy, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  }
  const std::string spool = temp_.path() + "/spool";
  fs::create_directories(spool);
  WriteFilters(ExcludeExe(agent));
  pid_t recorder = StartRecorder();
  auto write_files = [&](const std::string& shell, const std::string& prefix) {
    EXPECT_EQ(RunCapture(ShellQuote(shell) + " -c 'for i in $(seq 20); do echo x > " + spool + "/" +
                         prefix + "$i; done; echo done'"),
              "done\n");
  };
  write_files(agent, "agent");
  write_files(app, "app");
  Db db(DbPath());
  ASSERT_EQ(db.Await("SELECT 1 FROM file_events WHERE path LIKE " + Quote(spool + "/app%"), 15s, 20)
                .size(),
            20u)
      << ReadLog();
  EXPECT_EQ(
      db.Query("SELECT 1 FROM file_events WHERE path LIKE " + Quote(spool + "/agent%")).size(), 0u);
  const nlohmann::json filters = RecorderStatus()["filters"];
  EXPECT_GE(filters["dropped_by_type"].value("process", 0), 1) << filters.dump();
  EXPECT_EQ(filters["dropped_by_type"].value("file", -1), 0) << filters.dump();
  StopRecorder(recorder);
  // The run's row says the same: the agent's exec left out, no file event.
  auto runs = db.Query("SELECT filtered_out_process_start, filtered_out_file FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_GE(std::stoi(runs[0][0]), 1);
  EXPECT_EQ(runs[0][1], "0");
}

// Watchlist paths are recorded where watchedPaths does not reach and a
// file filter leaves them out; a path outside both is not recorded.
TEST_F(LiveFilters, WatchlistPathsAreRecordedWhateverTheFiltersSay) {
  const std::string watched = temp_.path() + "/watched";
  const std::string other = temp_.path() + "/other";
  fs::create_directories(watched);
  fs::create_directories(other);
  WriteFilters(R"({"file": {"exclude": [{"path": {"starts_with": ")" + watched + R"("}}]}})");
  std::ofstream(temp_.path() + "/config/watchlist.json") << R"({"paths": [")" + watched + R"("]})";
  pid_t recorder = StartRecorder(R"({"watchedPaths": ["/etc"]})");
  EXPECT_EQ(RunCapture("echo x > " + watched + "/a; echo x > " + other + "/b; echo done"),
            "done\n");
  Db db(DbPath());
  EXPECT_EQ(db.Await("SELECT 1 FROM file_events WHERE path = " + Quote(watched + "/a")).size(), 1u)
      << ReadLog();
  EXPECT_EQ(db.Query("SELECT 1 FROM file_events WHERE path = " + Quote(other + "/b")).size(), 0u);
  StopRecorder(recorder);
}

TEST_F(LiveFilters, AnEditedFilterFileTakesEffectWithoutSighup) {
  const std::string agent = temp_.path() + "/bin/edited-agent";
  const std::string app = temp_.path() + "/bin/edited-app";
  CopyTrue(agent);
  CopyTrue(app);
  WriteFilters(ExcludeExe(agent));
  pid_t recorder = StartRecorder();
  Db db(DbPath());
  RunTimes(agent, 2);
  RunTimes(app, 2);
  ASSERT_EQ(db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(app), 15s, 2).size(), 2u)
      << ReadLog();
  EXPECT_EQ(Count(db, agent), 0);

  // A bad edit, no signal: reported in status and the log, the old
  // filters and their rule stay.
  WriteFilters(R"({"process": {"exclude": [{"cmdline": {"regex": "a(b"}}]}})");
  nlohmann::json filters;
  EXPECT_TRUE(WaitFor(
      [&] {
        filters = RecorderStatus()["filters"];
        return filters.value("reload_failures", uint64_t{0}) > 0;
      },
      10s))
      << filters.dump() << ReadLog();
  EXPECT_NE(filters.value("last_reload_error", "").find("bad regex"), std::string::npos)
      << filters.dump();
  EXPECT_NE(ReadLog().find("configuration changed: filters not reloaded"), std::string::npos)
      << ReadLog();
  EXPECT_NE(RunCapture("auditctl -l").find("exe=" + agent), std::string::npos);

  // A bad recorder.json: the configuration in force stays, status says why.
  std::ofstream(temp_.path() + "/config/recorder.json") << "{\"MonitorDays\": ";
  nlohmann::json config;
  EXPECT_TRUE(WaitFor(
      [&] {
        config = RecorderStatus()["config"];
        return config.contains("last_reload_error");
      },
      10s))
      << config.dump() << ReadLog();
  EXPECT_NE(config.value("last_reload_error", "").find("recorder.json"), std::string::npos)
      << config.dump();
  std::ofstream(temp_.path() + "/config/recorder.json") << "{}";

  // A good edit: the app is left out now, the agent recorded, the kernel
  // rules follow; both errors are cleared.
  WriteFilters(ExcludeExe(app));
  EXPECT_TRUE(WaitFor(
      [&] {
        nlohmann::json status = RecorderStatus();
        return !status["filters"].contains("last_reload_error") &&
               !status["config"].contains("last_reload_error") &&
               RunCapture("auditctl -l").find("exe=" + app) != std::string::npos;
      },
      10s))
      << RecorderStatus().dump() << ReadLog();
  EXPECT_EQ(RunCapture("auditctl -l").find("exe=" + agent), std::string::npos);
  RunTimes(app, 2);
  RunTimes(agent, 2);
  EXPECT_EQ(db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(agent), 15s, 2).size(), 2u)
      << ReadLog();
  EXPECT_EQ(Count(db, app), 2);
  EXPECT_EQ(ReadLog().find("SIGHUP"), std::string::npos) << ReadLog();
  StopRecorder(recorder);
}

// Reloads while a shell execs a program as fast as it can: every exec is
// in the database and the run counts no loss. The reloads alternate
// between filter files that push different "never" rules down (for other
// programs), so the kernel's rules really change under the flood, and
// one that pushes down the same rules as the one before.
TEST_F(LiveFilters, NoExecIsLostAcrossReloadsUnderAnExecFlood) {
  const std::string app = temp_.path() + "/bin/flood-app";
  const std::string other = temp_.path() + "/bin/other";
  CopyTrue(app);
  CopyTrue(other + "1");
  CopyTrue(other + "2");
  WriteFilters(ExcludeExe(other + "1"));
  pid_t recorder = StartRecorder();
  constexpr int kExecs = 3000;
  const pid_t flood = Spawn({"/bin/sh", "-c",
                             "i=0; while [ $i -lt " + std::to_string(kExecs) + " ]; do " +
                                 ShellQuote(app) + "; i=$((i+1)); done"});
  ASSERT_GT(flood, 0);
  const std::vector<std::string> files = {
      ExcludeExe(other + "2"),
      ExcludeExe(other + "1"),
      R"({"process": {"exclude": [{"exe": ")" + other +
          R"(1"}, {"cmdline": {"contains": "--never-seen"}}]}})",
      ExcludeExe(other + "2"),
      ExcludeExe(other + "1"),
  };
  uint64_t reloads = RecorderStatus()["filters"].value("reloads", uint64_t{0});
  for (const std::string& text : files) {
    WriteFilters(text);
    ASSERT_EQ(kill(recorder, SIGHUP), 0);
    EXPECT_TRUE(WaitFor(
        [&] { return RecorderStatus()["filters"].value("reloads", uint64_t{0}) > reloads; }, 10s))
        << ReadLog();
    reloads = RecorderStatus()["filters"].value("reloads", uint64_t{0});
  }
  int flood_status = -1;
  EXPECT_TRUE(WaitFor(
      [&] {
        int status = 0;
        if (waitpid(flood, &status, WNOHANG) != flood) return false;
        flood_status = status;
        return true;
      },
      120s));
  EXPECT_EQ(flood_status, 0);
  Db db(DbPath());
  db.Await("SELECT 1 FROM processes WHERE exe = " + Quote(app), 30s, kExecs);
  EXPECT_EQ(Count(db, app), kExecs) << ReadLog();
  StopRecorder(recorder);
  auto runs = db.Query(
      "SELECT events_lost, serial_gaps, kernel_lost, filtered_out_process_start FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0][0], "0") << "events_lost";
  EXPECT_EQ(runs[0][1], "0") << "serial_gaps";
  EXPECT_EQ(runs[0][2], "0") << "kernel_lost";
  EXPECT_EQ(runs[0][3], "0") << "nothing of the flood was filtered";
}

}  // namespace
}  // namespace recorder
