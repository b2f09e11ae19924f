// The CPU kill switch's pure core, driven with synthetic samples: below
// the threshold, one violating window, several violations needed, the
// switch disabled, multi-minute windows, processor counts, sample gaps and
// clocks that go backwards. Plus a sanity check of the shell's sample.
#include "daemon/cpu_guard.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recorder::daemon {
namespace {

constexpr int64_t kMinute = 60'000;

CpuGuardOptions Options(double threshold = 0.25, int after = 1, int minutes = 1,
                        bool enabled = true) {
  CpuGuardOptions o;
  o.threshold = threshold;
  o.kill_after_violations = after;
  o.window_minutes = minutes;
  o.kill_enabled = enabled;
  return o;
}

// Feeds samples every `step_ms` from `*t` for `duration_ms`, the process
// using `usage` of `cpus` processors; returns the last report and the
// number of windows that closed.
struct DriveResult {
  CpuGuardReport last;
  int windows = 0;
  int violations_seen = 0;
};
DriveResult Drive(CpuGuard* guard, int64_t* t, int64_t* cpu, int64_t duration_ms, double usage,
                  int cpus = 2, int64_t step_ms = 5'000) {
  DriveResult run;
  for (int64_t elapsed = 0; elapsed < duration_ms; elapsed += step_ms) {
    *t += step_ms;
    *cpu += static_cast<int64_t>(std::llround(usage * static_cast<double>(step_ms) * cpus));
    run.last = guard->Feed({*t, *cpu, cpus});
    if (run.last.window_closed) ++run.windows;
    if (run.last.violation) ++run.violations_seen;
  }
  return run;
}

TEST(CpuGuardTest, BelowThresholdNeverViolates) {
  CpuGuard guard(Options());
  int64_t t = 1'000, cpu = 0;
  guard.Feed({t, cpu, 2});
  DriveResult run = Drive(&guard, &t, &cpu, 30 * kMinute, 0.20);
  EXPECT_EQ(run.windows, 30);
  EXPECT_EQ(run.violations_seen, 0);
  EXPECT_FALSE(run.last.kill);
  EXPECT_NEAR(run.last.usage, 0.20, 0.001);
  EXPECT_EQ(guard.violations(), 0);
}

TEST(CpuGuardTest, ExactlyAtThresholdIsNotAViolation) {
  CpuGuard guard(Options(0.25));
  // 2 processors, one minute: 30 s of CPU is exactly 25%.
  guard.Feed({0, 0, 2});
  CpuGuardReport r = guard.Feed({kMinute, 30'000, 2});
  EXPECT_TRUE(r.window_closed);
  EXPECT_DOUBLE_EQ(r.usage, 0.25);
  EXPECT_FALSE(r.violation);
  r = guard.Feed({2 * kMinute, 30'000 + 30'001, 2});
  EXPECT_TRUE(r.violation);
  EXPECT_TRUE(r.kill);
}

TEST(CpuGuardTest, OneViolatingWindowKillsWithTheDefaults) {
  CpuGuard guard(Options());
  int64_t t = 0, cpu = 0;
  guard.Feed({t, cpu, 4});
  DriveResult quiet = Drive(&guard, &t, &cpu, 3 * kMinute, 0.05, 4);
  EXPECT_FALSE(quiet.last.kill);
  DriveResult busy = Drive(&guard, &t, &cpu, kMinute, 0.60, 4);
  EXPECT_EQ(busy.windows, 1);
  EXPECT_TRUE(busy.last.violation);
  EXPECT_TRUE(busy.last.kill);
  EXPECT_EQ(busy.last.violations, 1);
  EXPECT_NEAR(busy.last.usage, 0.60, 0.001);
  EXPECT_NE(busy.last.reason.find("cpuThreshold"), std::string::npos) << busy.last.reason;
  EXPECT_TRUE(guard.tripped());
  // Sticky: later quiet windows still say kill.
  DriveResult after = Drive(&guard, &t, &cpu, 2 * kMinute, 0.0, 4);
  EXPECT_TRUE(after.last.kill);
  EXPECT_FALSE(after.last.violation);
}

TEST(CpuGuardTest, UsageIsPerProcessor) {
  // One full processor busy: 100% on 1 CPU, 25% on 4 CPUs (not over), 12.5% on 8.
  for (auto [cpus, expect_violation] : {std::pair{1, true}, {4, false}, {8, false}}) {
    CpuGuard guard(Options(0.25));
    guard.Feed({0, 0, cpus});
    CpuGuardReport r = guard.Feed({kMinute, kMinute, cpus});
    ASSERT_TRUE(r.window_closed);
    EXPECT_DOUBLE_EQ(r.usage, 1.0 / cpus);
    EXPECT_EQ(r.violation, expect_violation) << cpus;
  }
}

TEST(CpuGuardTest, NeedsTheConfiguredNumberOfViolations) {
  CpuGuard guard(Options(0.25, 3));
  int64_t t = 0, cpu = 0;
  guard.Feed({t, cpu, 2});
  DriveResult first = Drive(&guard, &t, &cpu, kMinute, 0.9);
  EXPECT_TRUE(first.last.violation);
  EXPECT_FALSE(first.last.kill);
  EXPECT_EQ(first.last.violations, 1);
  // A quiet window in between does not reset the count (lifetime count).
  DriveResult quiet = Drive(&guard, &t, &cpu, kMinute, 0.1);
  EXPECT_FALSE(quiet.last.violation);
  EXPECT_EQ(quiet.last.violations, 1);
  DriveResult second = Drive(&guard, &t, &cpu, kMinute, 0.9);
  EXPECT_FALSE(second.last.kill);
  EXPECT_EQ(second.last.violations, 2);
  DriveResult third = Drive(&guard, &t, &cpu, kMinute, 0.9);
  EXPECT_TRUE(third.last.kill);
  EXPECT_EQ(third.last.violations, 3);
}

TEST(CpuGuardTest, DisabledSwitchReportsViolationsButNeverKills) {
  CpuGuard guard(Options(0.25, 1, 1, /*enabled=*/false));
  int64_t t = 0, cpu = 0;
  guard.Feed({t, cpu, 2});
  DriveResult run = Drive(&guard, &t, &cpu, 10 * kMinute, 0.95);
  EXPECT_EQ(run.violations_seen, 10);
  EXPECT_EQ(guard.violations(), 10);
  EXPECT_FALSE(run.last.kill);
  EXPECT_FALSE(guard.tripped());
}

TEST(CpuGuardTest, MultiMinuteWindowAveragesOverTheWholeWindow) {
  CpuGuard guard(Options(0.25, 1, 5));
  int64_t t = 0, cpu = 0;
  guard.Feed({t, cpu, 2});
  // A 2-minute burst at 50% then 3 quiet minutes at 5%: average 23% < 25%.
  DriveResult burst = Drive(&guard, &t, &cpu, 2 * kMinute, 0.50);
  EXPECT_EQ(burst.windows, 0) << "a 1-minute window would have tripped";
  DriveResult rest = Drive(&guard, &t, &cpu, 3 * kMinute, 0.05);
  EXPECT_EQ(rest.windows, 1);
  EXPECT_EQ(rest.last.window_ms, 5 * kMinute);
  EXPECT_NEAR(rest.last.usage, 0.23, 0.001);
  EXPECT_FALSE(rest.last.violation);
  EXPECT_FALSE(rest.last.kill);
  // Sustained for five minutes: a violation.
  DriveResult sustained = Drive(&guard, &t, &cpu, 5 * kMinute, 0.30);
  EXPECT_EQ(sustained.windows, 1);
  EXPECT_TRUE(sustained.last.violation);
  EXPECT_TRUE(sustained.last.kill);
}

TEST(CpuGuardTest, SampleGapMakesOneLongExactWindow) {
  CpuGuard guard(Options(0.25, 2));
  guard.Feed({0, 0, 2});
  CpuGuardReport r = guard.Feed({10 * kMinute, 2 * 10 * kMinute * 40 / 100, 2});  // 40% for 10 min
  EXPECT_TRUE(r.window_closed);
  EXPECT_EQ(r.window_ms, 10 * kMinute);
  EXPECT_NEAR(r.usage, 0.40, 1e-9);
  EXPECT_TRUE(r.violation);
  EXPECT_EQ(r.violations, 1) << "a gap counts at most one violation";
  EXPECT_FALSE(r.kill);
}

TEST(CpuGuardTest, IrregularSamplesAreMeasuredOverTheExactLength) {
  CpuGuard guard(Options(0.25));
  guard.Feed({0, 0, 1});
  EXPECT_FALSE(guard.Feed({59'000, 10'000, 1}).window_closed);
  CpuGuardReport r = guard.Feed({80'000, 20'000, 1});  // 20 s CPU over 80 s: exactly 25%
  EXPECT_TRUE(r.window_closed);
  EXPECT_EQ(r.window_ms, 80'000);
  EXPECT_DOUBLE_EQ(r.usage, 0.25);
  EXPECT_FALSE(r.violation);
}

TEST(CpuGuardTest, ClockGoingBackwardsRestartsTheWindowWithoutCounting) {
  CpuGuard guard(Options(0.25));
  guard.Feed({100 * kMinute, 50'000, 2});
  // Monotonic time went back: a new window starts there; nothing is judged.
  CpuGuardReport r = guard.Feed({kMinute, 60'000, 2});
  EXPECT_FALSE(r.window_closed);
  EXPECT_FALSE(r.violation);
  // CPU time went back (a caller mixing processes): also a restart.
  r = guard.Feed({kMinute + 30'000, 10, 2});
  EXPECT_FALSE(r.window_closed);
  // Measured from the restart: 10 s of CPU over 1 min on 2 CPUs = 8.3%.
  r = guard.Feed({2 * kMinute + 30'000, 10'010, 2});
  EXPECT_TRUE(r.window_closed);
  EXPECT_NEAR(r.usage, 10'000.0 / (2 * kMinute), 1e-9);
  EXPECT_FALSE(r.violation);
  EXPECT_EQ(guard.violations(), 0);
}

TEST(CpuGuardTest, ProcessorHotplugUsesTheMostSeenInTheWindow) {
  CpuGuard guard(Options(0.25));
  guard.Feed({0, 0, 4});
  guard.Feed({30'000, 20'000, 1});  // three processors went offline
  // 40 s of CPU over 1 min: 16.7% of 4 processors (66.7% of 1).
  CpuGuardReport r = guard.Feed({kMinute, 40'000, 1});
  EXPECT_TRUE(r.window_closed);
  EXPECT_NEAR(r.usage, 40'000.0 / (4.0 * kMinute), 1e-9);
  EXPECT_FALSE(r.violation);
  EXPECT_FALSE(r.kill);
}

TEST(CpuGuardTest, WindowMsOverridesMinutes) {
  CpuGuardOptions o = Options(0.25, 1, /*minutes=*/10);
  o.window_ms = 2'000;
  CpuGuard guard(o);
  guard.Feed({0, 0, 1});
  EXPECT_FALSE(guard.Feed({1'000, 900, 1}).window_closed);
  CpuGuardReport r = guard.Feed({2'000, 1'800, 1});
  EXPECT_TRUE(r.window_closed);
  EXPECT_EQ(r.window_ms, 2'000);
  EXPECT_DOUBLE_EQ(r.usage, 0.9);
  EXPECT_TRUE(r.kill);
}

TEST(CpuGuardTest, FromConfigTakesTheFourSettings) {
  config::RecorderConfig config;
  config.cpu_threshold = 0.5;
  config.cpu_kill_enabled = false;
  config.cpu_kill_after_num_violations = 4;
  config.cpu_threshold_minutes = 15;
  CpuGuardOptions o = CpuGuardOptions::FromConfig(config);
  EXPECT_DOUBLE_EQ(o.threshold, 0.5);
  EXPECT_FALSE(o.kill_enabled);
  EXPECT_EQ(o.kill_after_violations, 4);
  EXPECT_EQ(o.window_minutes, 15);
  EXPECT_EQ(o.window_ms, 0);
}

TEST(CpuGuardTest, ShellReadsThisProcess) {
  Result<CpuSample> a = ReadCpuSample();
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_GE(a->online_cpus, 1);
  // Burn CPU until the process clock shows 20 ms more, for at most 10 s
  // of wall time: a clock that does not move fails, never hangs, and a
  // loaded host that gives this process little of a core only takes
  // longer.
  volatile uint64_t x = 0;
  Result<CpuSample> b = ReadCpuSample();
  while (b.ok() && b->cpu_time_ms < a->cpu_time_ms + 20 &&
         b->monotonic_ms < a->monotonic_ms + 10'000) {
    for (int i = 0; i < 1'000'000; ++i) x = x + static_cast<uint64_t>(i);
    b = ReadCpuSample();
  }
  ASSERT_TRUE(b.ok());
  EXPECT_GE(b->cpu_time_ms, a->cpu_time_ms + 20);
}

}  // namespace
}  // namespace recorder::daemon
