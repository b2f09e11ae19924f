// The CPU kill switch live: `recorder run --source unicast` with the lowest
// cpuThreshold the configuration accepts (1% of the machine) and a short
// window (--cpu-window-seconds), under a storm that gives it real work until
// it reacts (at most 30 s). An exec storm of /bin/true alone no longer does:
// the recorder reads it for about 0.5% of the machine. So each exec is of an
// 8 MB binary touched just before (a new mtime is a new file version), which
// the recorder must hash again: tens of ms of SHA-256 and MD5 per exec, far
// over 1% of the machine over a 2 s window. It must disable itself: exit
// non-zero, write the `disabled` marker with the reason, remove its rules
// and restore the audit status; `recorder start` then refuses until --force.
// With cpuKillEnabled false the same load is reported as violations and
// recording goes on.
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-limitstest";

class LiveLimits : public UnicastRecorderTest {
 protected:
  LiveLimits() : UnicastRecorderTest(kTestKey) {}

  pid_t StartRecorder(bool kill_enabled) {
    return UnicastRecorderTest::StartRecorder(
        fmt::format(R"({{"cpuThreshold": "1%", "cpuKillEnabled": {}}})",
                    kill_enabled ? "true" : "false"),
        {"--limits-check-interval", "0.5", "--cpu-window-seconds", "2"});
  }

  // Execs of a freshly touched 8 MB binary, work the recorder must do,
  // until `done` says it reacted or 30 s pass. How much load a storm puts
  // on the recorder depends on the host; the test waits for the reaction
  // instead of storming for a fixed time.
  void ExecStormUntil(const std::function<bool()>& done) {
    const std::string binary = temp_.path() + "/big-true";
    ASSERT_EQ(RunCapture("cp /bin/true " + binary + " && truncate -s 8M " + binary +
                         " && chmod 0755 " + binary + " && " + binary + " && echo ok"),
              "ok\n");
    pid_t storm = Spawn({"/bin/bash", "-c",
                         "end=$((SECONDS + 30)); while [ $SECONDS -lt $end ]; do touch " + binary +
                             "; " + binary + "; done"});
    ASSERT_GT(storm, 0);
    guard_->Adopt(storm);
    WaitFor(done, 30s);
    kill(storm, SIGTERM);
    WaitExit(storm, 10s);
    guard_->Forget(storm);
  }
};

TEST_F(LiveLimits, CpuKillSwitchDisablesRecordingUntilStartedByHand) {
  pid_t recorder = StartRecorder(/*kill_enabled=*/true);
  int exit_code = -1;
  ExecStormUntil([&] {
    int status = 0;
    if (waitpid(recorder, &status, WNOHANG) != recorder) return false;
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  });
  if (exit_code == -1) exit_code = WaitExit(recorder, 20s);
  if (exit_code < 0) {
    // Still running: stopped here, or every later test finds the audit
    // pid taken.
    kill(recorder, SIGKILL);
    WaitExit(recorder, 10s);
  }
  guard_->Forget(recorder);
  // The rest asks about a disable that did not happen, and would start a
  // recorder with `recorder start`.
  ASSERT_GE(exit_code, 0) << "the recorder did not stop on its own\n" << ReadLog();
  EXPECT_NE(exit_code, 0) << "a disable is not a clean stop\n" << ReadLog();

  std::string marker = RunCapture("cat " + StateDir() + "/disabled");
  EXPECT_NE(marker.find("cpuThreshold"), std::string::npos) << marker;
  // The run's row says why it ended.
  std::vector<std::vector<std::string>> runs = Db(DbPath()).Query("SELECT error FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0][0].rfind("disabled: ", 0), 0u) << runs[0][0];
  EXPECT_NE(runs[0][0].find("cpuThreshold"), std::string::npos) << runs[0][0];
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
  Result<AuditStatus> now = ReadAuditStatus();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->enabled, guard_->before().enabled);
  EXPECT_EQ(now->pid, guard_->before().pid);

  // status says disabled, with the reason; start refuses without --force.
  nlohmann::json status = nlohmann::json::parse(
      RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " + StateDir() +
                 " --rule-key " + kTestKey),
      nullptr, false);
  ASSERT_FALSE(status.is_discarded());
  EXPECT_EQ(status.value("state", ""), "disabled") << status.dump();
  std::string start =
      RunCapture(std::string(RECORDER_BINARY) + " start --source unicast --db " + DbPath() +
                 " --state-dir " + StateDir() + " --rule-key " + kTestKey + " --config " +
                 temp_.path() + "/config 2>&1; echo exit=$?");
  EXPECT_NE(start.find("disabled"), std::string::npos) << start;
  EXPECT_EQ(start.find("exit=0"), std::string::npos) << start;
  if (start.find("exit=0") != std::string::npos)  // it started one: stop it, it is ours
    RunCapture(std::string(RECORDER_BINARY) + " stop --state-dir " + StateDir());
  EXPECT_EQ(CountRulesWithKey(kTestKey), 0);
}

TEST_F(LiveLimits, ViolationsAreOnlyReportedWhenTheSwitchIsOff) {
  pid_t recorder = StartRecorder(/*kill_enabled=*/false);
  nlohmann::json status;
  auto reported = [&] {
    status = nlohmann::json::parse(
        RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " + StateDir()),
        nullptr, false);
    return !status.is_discarded() && status.value("state", "") == "running" &&
           status["limits"]["cpu"].value("violations", 0) >= 1;
  };
  ExecStormUntil(reported);
  // The last window may close after the storm: look a little longer.
  EXPECT_TRUE(reported() || WaitFor(reported, 10s)) << status.dump() << "\n" << ReadLog();
  EXPECT_FALSE(fs::exists(StateDir() + "/disabled"));
  StopRecorder(recorder);
}

}  // namespace
}  // namespace recorder
