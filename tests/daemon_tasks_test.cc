// The daemon's parts that run without a kernel: the table of periodic
// tasks (time passed in, no threads or sleeps), how a run's end becomes
// its `runs` row, the status JSON from a snapshot, the rule keeper on a
// fake kernel, the limit tasks, and a start that fails after the run's
// row was written.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/daemon_status.h"
#include "daemon/limit_tasks.h"
#include "daemon/periodic_tasks.h"
#include "daemon/recorder_daemon.h"
#include "daemon/rule_keeper.h"
#include "daemon/run_report.h"
#include "daemon/status_report.h"
#include "daemon_support.h"
#include "db_query.h"
#include "rules/audit_control.h"
#include "store/event_store.h"
#include "temp_dir.h"

namespace recorder::daemon {
namespace {

// ---------------------------------------------------------------------
// TaskTable

// A task that logs its runs into a shared list and can be told to fail
// or to change its period.
struct Probe {
  std::vector<std::string> runs;
};

class ProbeTask : public PeriodicTask {
 public:
  ProbeTask(std::string name, Probe* probe, int64_t period)
      : name_(std::move(name)), probe_(probe), period_(period) {}
  Status Run(const TaskClock& now) override {
    probe_->runs.push_back(name_ + "@" + std::to_string(now.mono_ms));
    if (fail_) return Status::Error(name_ + " failed");
    return Status::Ok();
  }
  int64_t period_ms() const override { return period_; }
  void set_period(int64_t period) { period_ = period; }
  void set_fail(bool fail) { fail_ = fail; }

 private:
  std::string name_;
  Probe* probe_;
  int64_t period_;
  bool fail_ = false;
};

TEST(TaskTable, RunsDueTasksInTableOrderAndReschedulesFromNow) {
  Probe probe;
  TaskTable table;
  table.Add("tick", std::make_unique<ProbeTask>("tick", &probe, 250), 250);
  table.Add("check", std::make_unique<ProbeTask>("check", &probe, 1000), 0);
  EXPECT_EQ(table.next_due_ms(), 0);
  EXPECT_EQ(table.names(), (std::vector<std::string>{"tick", "check"}));

  ASSERT_TRUE(table.RunDue({0, 1000}).ok());
  EXPECT_EQ(probe.runs, std::vector<std::string>{"check@0"});
  EXPECT_EQ(table.due_ms("check"), 1000);
  EXPECT_EQ(table.next_due_ms(), 250);

  ASSERT_TRUE(table.RunDue({249, 1249}).ok());  // nothing due yet
  EXPECT_EQ(probe.runs.size(), 1u);

  // Late: each due task runs once, in table order, and is next due one
  // period after this call, not after its missed due time.
  ASSERT_TRUE(table.RunDue({1700, 2700}).ok());
  EXPECT_EQ(probe.runs, (std::vector<std::string>{"check@0", "tick@1700", "check@1700"}));
  EXPECT_EQ(table.due_ms("tick"), 1950);
  EXPECT_EQ(table.due_ms("check"), 2700);
  EXPECT_EQ(table.due_ms("nosuch"), -1);
}

TEST(TaskTable, AnErrorStopsThePassAndLaterTasksStayDue) {
  Probe probe;
  TaskTable table;
  auto first = std::make_unique<ProbeTask>("first", &probe, 100);
  first->set_fail(true);
  table.Add("first", std::move(first), 0);
  table.Add("second", std::make_unique<ProbeTask>("second", &probe, 100), 0);
  Status status = table.RunDue({10, 10});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "first failed");
  EXPECT_EQ(probe.runs, std::vector<std::string>{"first@10"});
  EXPECT_EQ(table.due_ms("first"), 110);
  EXPECT_EQ(table.due_ms("second"), 0);
}

TEST(TaskTable, PeriodIsReadAfterEachRun) {
  Probe probe;
  TaskTable table;
  auto task = std::make_unique<ProbeTask>("step", &probe, 60'000);
  ProbeTask* step = task.get();
  table.Add("step", std::move(task), 0);
  ASSERT_TRUE(table.RunDue({0, 0}).ok());
  EXPECT_EQ(table.due_ms("step"), 60'000);
  step->set_period(250);  // e.g. a cleanup run in progress
  ASSERT_TRUE(table.RunDue({60'000, 0}).ok());
  EXPECT_EQ(table.due_ms("step"), 60'250);
  step->set_period(0);  // never spins: at least 1 ms
  ASSERT_TRUE(table.RunDue({60'250, 0}).ok());
  EXPECT_EQ(table.due_ms("step"), 60'251);
}

TEST(TaskTable, TimesEachRunWithTheGivenClock) {
  int64_t fake_us = 0;
  TaskTable table([&fake_us] { return fake_us; });
  table.Add("slow",
            MakeTask(100,
                     [&fake_us](const TaskClock&) {
                       fake_us += 1500;
                       return Status::Ok();
                     }),
            0);
  table.Add("later", MakeTask(100, [](const TaskClock&) { return Status::Ok(); }), 50);
  ASSERT_TRUE(table.RunDue({0, 0}).ok());
  EXPECT_EQ(table.LastRunUs("slow"), 1500);
  EXPECT_EQ(table.LastRunUs("later"), 0);
  ASSERT_TRUE(table.RunDue({60, 0}).ok());
  EXPECT_EQ(table.LastRunUs("slow"), 0);  // not run in the last pass
}

// ---------------------------------------------------------------------
// How a run ends -> runs.error

TEST(RunReport, CleanEndingsLeaveTheErrorEmpty) {
  for (const RunEnd& end :
       {RunEnd{RunEndKind::kSignal, "SIGTERM"}, RunEnd{RunEndKind::kStopRequest, ""},
        RunEnd{RunEndKind::kEndOfInput, ""}}) {
    RunOutcome outcome;
    outcome.Record(end);
    EXPECT_TRUE(outcome.ended());
    EXPECT_EQ(LiveRunStats({}, outcome).error, "") << end.Describe();
  }
  RunOutcome outcome;
  outcome.Record({RunEndKind::kSignal, "SIGINT"});
  EXPECT_EQ(outcome.StopReason(), "SIGINT");
  RunOutcome stop;
  stop.Record({RunEndKind::kStopRequest, ""});
  EXPECT_EQ(stop.StopReason(), "recorder stop");
  RunOutcome eof;
  eof.Record({RunEndKind::kEndOfInput, ""});
  EXPECT_EQ(eof.StopReason(), "end of input (auditd stopped)");
  EXPECT_EQ(RunOutcome().ErrorText(), "");  // still running
}

TEST(RunReport, EachErrorSaysWhichPartFailed) {
  const std::vector<std::pair<RunEnd, std::string>> cases = {
      {{RunEndKind::kStartFailed, "cannot open /x: No such file"},
       "start failed: cannot open /x: No such file"},
      {{RunEndKind::kSourceFailed, "reading audit records from stdin failed: Is a directory"},
       "source failed: reading audit records from stdin failed: Is a directory"},
      {{RunEndKind::kWriteFailed, "database is locked"},
       "writing events failed: database is locked"},
      {{RunEndKind::kDisabled, "CPU use 40% over cpuThreshold"},
       "disabled: CPU use 40% over cpuThreshold"},
      {{RunEndKind::kInternalError, "poll failed: EBADF"}, "internal error: poll failed: EBADF"},
  };
  for (const auto& [end, text] : cases) {
    RunOutcome outcome;
    outcome.Record(end);
    EXPECT_EQ(LiveRunStats({}, outcome).error, text);
    EXPECT_EQ(outcome.StopReason(), text);
  }
}

TEST(RunReport, TheFirstErrorIsKeptEvenAfterACleanStop) {
  RunOutcome outcome;
  outcome.Record({RunEndKind::kSignal, "SIGTERM"});
  outcome.Record({RunEndKind::kWriteFailed, "disk full"});  // the last flush
  outcome.Record({RunEndKind::kWriteFailed, "disk still full"});
  outcome.Record({RunEndKind::kStopRequest, ""});
  EXPECT_EQ(outcome.StopReason(), "SIGTERM");
  EXPECT_EQ(LiveRunStats({}, outcome).error, "writing events failed: disk full");
}

TEST(RunReport, CountsMapToTheRunsColumns) {
  LiveRunCounts counts;
  counts.lines = 100;
  counts.bytes = 9000;
  counts.malformed = 3;
  counts.truncated = 1;
  counts.audit_events = 40;
  counts.partial_events = 2;
  counts.ignored_events = 5;
  counts.kernel_lost_at_start = 7;
  counts.kernel_lost_now = 19;
  counts.netlink_overruns = 4;
  counts.plugin_too_long = 6;
  counts.image_dropped = 8;
  counts.image_overflows = 9;
  store::RunStats stats = LiveRunStats(counts, RunOutcome());
  EXPECT_EQ(stats.lines, 100u);
  EXPECT_EQ(stats.bytes, 9000u);
  EXPECT_EQ(stats.records, 97u);
  EXPECT_EQ(stats.malformed, 3u);
  EXPECT_EQ(stats.truncated, 1u);
  EXPECT_EQ(stats.audit_events, 40u);
  EXPECT_EQ(stats.partial_events, 2u);
  EXPECT_EQ(stats.ignored_events, 5u);
  EXPECT_EQ(stats.kernel_lost, 12u);
  EXPECT_EQ(stats.dropped_backlog, 4u);
  EXPECT_EQ(stats.dropped_queue_full, 8u);
  EXPECT_EQ(stats.dropped_other, 15u);
  counts.kernel_lost_at_start.reset();  // a start without a status: unknown, not "all"
  EXPECT_EQ(LiveRunStats(counts, RunOutcome()).kernel_lost, 0u);
}

// ---------------------------------------------------------------------
// Status JSON from a snapshot

TEST(StatusReport, JsonFromASnapshot) {
  StatusSnapshot s;
  s.pid = 42;
  s.source = "unicast";
  s.started_ms = 1'000'000;
  s.now_ms = 1'065'500;
  s.events[0] = {10, 1.5};
  s.events[2] = {4, 0.5};
  s.events_total = 14;
  AuditStatus start;
  start.lost = 5;
  AuditStatus now;
  now.lost = 8;
  now.enabled = 1;
  now.pid = 42;
  now.backlog_limit = 8192;
  s.audit_at_start = start;
  s.audit_now = now;
  s.unicast = true;
  s.audit_pid_lost = true;
  s.audit_holder_pid = 77;
  s.db_path = "/var/lib/recorder/monitor.db";
  s.db_size_bytes = 4096;
  s.rule_key = "recorder";
  s.rules.present = 20;
  s.rules.missing = 2;
  s.rules.immutable = true;
  s.rules.message = "reboot needed";
  s.storage.max_size_mb = 1024;
  s.storage.last_cleanup_ms = 1'050'000;
  s.storage.last_cleanup_bytes_after = 2048;
  s.loop.longest_busy_us = 2500;

  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["pid"], 42);
  EXPECT_EQ(j["uptime_s"], 65);
  EXPECT_EQ(j["events"]["process_start"]["total"], 10);
  EXPECT_EQ(j["events"]["file"]["per_second"], 0.5);
  EXPECT_EQ(j["events_per_second"], 2.0);
  EXPECT_EQ(j["kernel_lost"], 8);
  EXPECT_EQ(j["kernel_lost_since_start"], 3);
  EXPECT_EQ(j["warning"], "lost the audit connection to pid 77");
  EXPECT_EQ(j["rules"]["installed"], 20);
  EXPECT_EQ(j["restart_needed"], true);
  EXPECT_EQ(j["rules_message"], "reboot needed");
  EXPECT_EQ(j["limits"]["storage"]["last_cleanup_bytes_after"], 2048);
  EXPECT_EQ(j["loop"]["longest_busy_ms"], 2.5);
  EXPECT_FALSE(j.contains("checkpoints"));  // no database
  EXPECT_FALSE(j.contains("hashes"));

  // The text `recorder status` prints is made from the same object.
  const std::string text = FormatStatusText(j);
  EXPECT_NE(text.find("recorder: running (pid 42, source unicast, up 1m05s)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("WARNING: lost the audit connection to pid 77"), std::string::npos);
  EXPECT_NE(text.find("reboot needed to load the recorder's rules"), std::string::npos);

  s.unicast = false;
  s.audit_now.reset();
  s.storage.last_cleanup_ms.reset();
  s.hashes = StatusSnapshot::Hashes{3, 1, 9};
  j = StatusJson(s);
  EXPECT_FALSE(j.contains("audit_pid_lost"));
  EXPECT_FALSE(j.contains("warning"));
  EXPECT_FALSE(j.contains("kernel_lost"));
  EXPECT_FALSE(j["limits"]["storage"].contains("last_cleanup_ms"));
  EXPECT_EQ(j["hashes"]["queue_full"], 1);
}

// Stopped, the recorder's rules are not in the kernel: that is said as
// the normal state it is, not as rules "missing".
TEST(StatusReport, StoppedSaysTheRulesAreNotInstalledBecauseItIsNotRunning) {
  nlohmann::json stopped = {{"state", "stopped"},
                            {"rules", {{"key", "recorder"}, {"installed", 0}, {"missing", 24}}}};
  std::string text = FormatStatusText(stopped);
  EXPECT_NE(text.find("rules (key recorder): not installed (not running)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("missing"), std::string::npos) << text;

  stopped["rules"]["installed"] = 3;
  text = FormatStatusText(stopped);
  EXPECT_NE(text.find("3 installed, though not running"), std::string::npos) << text;

  nlohmann::json running = {{"state", "running"},
                            {"rules", {{"key", "recorder"}, {"installed", 22}, {"missing", 2}}}};
  EXPECT_NE(FormatStatusText(running).find("22 installed, 2 missing"), std::string::npos);
}

// ---------------------------------------------------------------------
// RuleKeeper on a fake kernel

config::RecorderConfig KeeperConfig(const std::string& dir) {
  config::RecorderConfig c = config::DefaultConfig(dir);
  c.rule_key = "recorder-keeper-test";
  c.recorder_exe = RECORDER_BINARY;
  c.backlog_limit = 64;
  return c;
}

TEST(RuleKeeper, RepairsDriftAndRemovesItsRulesOnDestruction) {
  TempDir dir;
  rules::FakeAuditControl kernel;
  kernel.status.enabled = 1;
  {
    RuleKeeper keeper(KeeperConfig(dir.path()), nullptr, &kernel);
    ASSERT_TRUE(keeper.Install().ok());
    const size_t wanted = kernel.rules.size();
    ASSERT_GT(wanted, 2u);
    EXPECT_EQ(keeper.state().present, static_cast<int>(wanted));
    EXPECT_EQ(keeper.state().missing, 0);

    keeper.CheckAndRepair(5000);  // no drift
    EXPECT_EQ(keeper.state().restores, 0u);
    EXPECT_EQ(keeper.state().last_drift_ms, 0);

    kernel.rules.erase(kernel.rules.begin(), kernel.rules.begin() + 2);  // someone's auditctl -d
    keeper.CheckAndRepair(9000);
    EXPECT_EQ(kernel.rules.size(), wanted);
    EXPECT_EQ(keeper.state().restores, 1u);
    EXPECT_EQ(keeper.state().last_drift_ms, 9000);
    EXPECT_EQ(keeper.state().present, static_cast<int>(wanted));
    EXPECT_EQ(keeper.state().missing, 0);
    // No Remove(): the destructor does it (an exception skipped the shutdown).
  }
  EXPECT_TRUE(kernel.rules.empty());
}

TEST(RuleKeeper, RemoveIsIdempotent) {
  TempDir dir;
  rules::FakeAuditControl kernel;
  kernel.status.enabled = 1;
  RuleKeeper keeper(KeeperConfig(dir.path()), nullptr, &kernel);
  ASSERT_TRUE(keeper.Install().ok());
  ASSERT_TRUE(keeper.Remove().ok());
  EXPECT_TRUE(kernel.rules.empty());
  const int deletes = kernel.delete_calls;
  ASSERT_TRUE(keeper.Remove().ok());
  EXPECT_EQ(kernel.delete_calls, deletes);
}

// ---------------------------------------------------------------------
// Limit tasks

TEST(CpuGuardTask, DisablesOnASustainedViolationAndSurvivesABadSample) {
  CpuGuardOptions options;
  options.threshold = 0.10;
  options.window_ms = 1000;
  std::vector<Result<CpuSample>> samples = {
      Status::Error("clock_gettime failed"), CpuSample{0, 0, 1},
      CpuSample{1000, 900, 1},  // 90% of one processor over 1 s
  };
  size_t next = 0;
  std::vector<std::string> disabled;
  CpuGuardTask task(
      options, 500, [&disabled](const std::string& reason) { disabled.push_back(reason); },
      [&] { return samples[next++]; });
  EXPECT_EQ(task.period_ms(), 500);
  ASSERT_TRUE(task.Run({0, 0}).ok());  // the bad sample: logged, nothing else
  EXPECT_TRUE(disabled.empty());
  ASSERT_TRUE(task.Run({500, 0}).ok());
  ASSERT_TRUE(task.Run({1000, 0}).ok());
  ASSERT_EQ(disabled.size(), 1u);
  EXPECT_NE(disabled[0].find("cpuThreshold"), std::string::npos) << disabled[0];
  EXPECT_EQ(task.guard().violations(), 1);
  EXPECT_NEAR(task.last_window().usage, 0.9, 1e-9);
}

TEST(CleanupTask, FirstRunTenSecondsAfterStartThenEveryInterval) {
  TempDir dir;
  Result<std::unique_ptr<store::EventStore>> store = store::EventStore::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok()) << store.status().message();
  config::RecorderConfig config = config::DefaultConfig(dir.path());
  config.database_cleanup_interval_minutes = 30;
  std::vector<std::string> disabled;
  const int64_t start = 1'000'000;
  CleanupTask task(store->get(), config, 250, 5000, start,
                   [&disabled](const std::string& reason) { disabled.push_back(reason); });
  EXPECT_EQ(task.period_ms(), 250);
  const int64_t wall = 1'700'000'000'000;
  ASSERT_TRUE(task.Run({start + 9'999, wall}).ok());
  EXPECT_FALSE(task.last_run().has_value());
  EXPECT_EQ(task.next_run_ms(), start + CleanupTask::kFirstRunMs);
  // An empty database: the run finishes within a few steps, one per call.
  int64_t now = start + CleanupTask::kFirstRunMs;
  for (int step = 0; step < 20 && !task.last_run(); ++step, now += 250)
    ASSERT_TRUE(task.Run({now, wall}).ok());
  ASSERT_TRUE(task.last_run().has_value());
  EXPECT_FALSE(task.running());
  EXPECT_EQ(task.last_run_wall_ms(), wall);
  EXPECT_EQ(task.next_run_ms(), start + CleanupTask::kFirstRunMs + 30 * 60'000);
  EXPECT_TRUE(disabled.empty());

  // A reload with a shorter interval applies from the next run on.
  config.database_cleanup_interval_minutes = 1;
  task.Reconfigure(config, now);
  EXPECT_EQ(task.next_run_ms(), start + CleanupTask::kFirstRunMs + 30 * 60'000);
}

// What a cleanup run deleted, in the user's terms: a young database with
// MonitorDays 90 loses no event, and a process row that no event refers to
// is called what it is (not "1 rows deleted").
TEST(CleanupSummary, SaysWhatWasDeletedAndWhy) {
  store::StorageSize size;
  size.page_size = 4096;
  size.page_count = 256;  // 1 MiB
  EXPECT_EQ(CleanupSummary({}, 90, false, size, size), "");
  EXPECT_EQ(CleanupSummary({{"file_data", 0}}, 90, false, size, size), "");
  EXPECT_EQ(CleanupSummary({{"process_data", 1}}, 90, false, size, size),
            "database cleanup: deleted 0 events (older than MonitorDays (90 days)) and 1 process "
            "row that no kept event refers to (processes that ended or whose pid a later process "
            "took, placeholders for processes seen without their start); 1.0 MB -> 1.0 MB");
  store::StorageSize after = size;
  after.page_count = 128;
  EXPECT_NE(
      CleanupSummary(
          {{"file_data", 1200}, {"network_data", 1}, {"audit_events", 40}, {"process_data", 3}}, 90,
          false, size, after)
          .find("deleted 1201 events (older than MonitorDays (90 days)) and 3 process rows"),
      std::string::npos);
  EXPECT_NE(CleanupSummary({{"file_data", 1}}, 0, true, size, after)
                .find("deleted 1 event (the oldest, over maxSizeMB); 1.0 MB -> 0.5 MB"),
            std::string::npos);
  EXPECT_NE(CleanupSummary({}, 30, true, size, after)
                .find("deleted 0 events (the oldest, over maxSizeMB, or older than MonitorDays "
                      "(30 days))"),
            std::string::npos);
  // A WAL that could not be truncated is named, not hidden in the total.
  after.wal_bytes = 3 * store::kBytesPerMB;
  EXPECT_NE(CleanupSummary({{"file_data", 1}}, 0, true, size, after, true)
                .find("1.0 MB -> 3.5 MB (of which the WAL 3.0 MB: a reader or another checkpoint "
                      "kept it from being truncated)"),
            std::string::npos);
  EXPECT_EQ(CleanupSummary({{"file_data", 1}}, 0, true, size, after, false).find("of which"),
            std::string::npos);
}

// ---------------------------------------------------------------------
// A start that fails after the run's row exists says so in runs.error
// (and does not crash writing that row without a pipeline).

std::vector<std::string> RunsErrors(const std::string& db_path) {
  std::vector<std::string> errors;
  for (const auto& row : QueryValues(db_path, "SELECT error FROM runs ORDER BY run_id")) {
    errors.push_back(row.at(0));
  }
  return errors;
}

TEST(RunDaemon, AStartThatFailsAfterTheRunBeganRecordsWhy) {
  TempDir dir;
  DaemonOptions options = DaemonThatFailsAfterTheRunBegan(dir);
  Status status = RunDaemon(options);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("no/such/dir/events.json"), std::string::npos)
      << status.message();
  const std::vector<std::string> errors = RunsErrors(options.db_path);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("start failed: cannot open ", 0), 0u) << errors[0];
  EXPECT_FALSE(std::filesystem::exists(options.config.pid_file));
  EXPECT_FALSE(std::filesystem::exists(options.config.control_socket));
}

// `recorder run --force` re-enables recording as `start --force` does: the
// marker goes, so `status` no longer says "disabled". Without --force the
// run is refused and the marker stays.
TEST(RunDaemon, AForcedRunClearsTheDisabledMarker) {
  TempDir dir;
  // The start fails once the run began (as in the test above): no kernel
  // audit is touched.
  DaemonOptions options = DaemonThatFailsAfterTheRunBegan(dir);
  ASSERT_TRUE(WriteDisabled(options.config.state_dir, "database over its hard limit").ok());

  Status refused = RunDaemon(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("recording is disabled"), std::string::npos)
      << refused.message();
  EXPECT_TRUE(ReadDisabledReason(options.config.state_dir).has_value());

  options.force = true;
  Status forced = RunDaemon(options);
  EXPECT_NE(forced.message().find("no/such/dir/events.json"), std::string::npos)
      << forced.message();
  EXPECT_FALSE(ReadDisabledReason(options.config.state_dir).has_value());
}

}  // namespace
}  // namespace recorder::daemon
