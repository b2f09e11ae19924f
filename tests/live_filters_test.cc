// Filters in live recording: `recorder run --source unicast` with a
// filters.json that excludes one program (a copy of true under the test's
// temp dir). Its execs must be absent from monitor.db while another copy's
// are present, status counts what the filters left out, the exclusion is
// pushed down as a "never" rule under the test's key, and SIGHUP reloads
// the filters (a bad file keeps the previous ones, a good one replaces them
// and the kernel rules with them).
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <gtest/gtest.h>
#include <signal.h>

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

  nlohmann::json Status() {
    auto status = daemon::ControlRequest(StateDir() + "/recorder.sock", "status");
    EXPECT_TRUE(status.ok()) << status.status().message();
    return status.ok() ? nlohmann::json::parse(*status) : nlohmann::json::object();
  }

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
    const uint64_t before = Status()["filters"].value("reload_failures", uint64_t{0});
    ASSERT_EQ(kill(recorder, SIGHUP), 0);
    nlohmann::json after;
    EXPECT_TRUE(WaitFor(
        [&] {
          after = Status()["filters"];
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
  nlohmann::json status = Status();
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
  status = Status();
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
  EXPECT_TRUE(WaitFor([&] { return !Status()["filters"].contains("last_reload_error"); }, 10s))
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

}  // namespace
}  // namespace recorder
