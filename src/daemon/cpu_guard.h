// The CPU kill switch (cpuThreshold, cpuThresholdMinutes, cpuKillEnabled,
// cpuKillAfterNumViolations in the vendor manual).
//
// What is measured. The manual says "if the endpoint CPU use per processor
// exceeds this value over a one minute period, the Client Recorder
// Extension is disabled". We read "CPU use" as the RECORDER's own CPU time
// (user + system, all threads), and "per processor" as a share of the
// whole machine's capacity:
//
//     usage = Δ(process CPU time) / (Δ(wall time) × online processors)
//
// so the default 0.25 on a 4-processor machine means one full processor.
// Why the recorder's own time and not the machine's: the switch exists to
// stop the recorder from costing the endpoint too much, and disabling it
// "until started by hand" because OTHER programs are busy would let any
// CPU-heavy job (or an attacker burning CPU on purpose) switch recording
// off. Why divided by processors: that is what "per processor" adds, and
// it makes one threshold mean the same share of the machine on any size
// of host.
//
// Windows. Usage is averaged over tumbling windows of cpuThresholdMinutes,
// the first starting at the first sample. A window closes at the first
// sample at least that long after its start and is measured over its
// exact length, so irregular sampling costs no accuracy. A window whose
// average is ABOVE the threshold is a violation. Violations count over the
// guard's lifetime (the manual: recording continues "until the maximum
// number of violations has been exceeded"); with the default of 1, the
// first violating window trips the switch, matching cpuThreshold's own
// description, so the switch trips when violations REACH the setting.
// With cpuKillEnabled=false violations are still reported, never "kill".
//
// Gaps and clock trouble: a sample gap longer than a window (a stalled
// loop) makes one longer window whose average is still exact — it counts
// at most one violation, since how the time was spread inside it is
// unknown. A sample whose monotonic time or CPU time went backwards (it
// cannot on Linux, but a caller mixing clocks could) restarts the window
// at that sample; nothing is counted for the broken interval.
//
// Pure core: samples carry the time; nothing here reads a clock. The thin
// shell ReadCpuSample() reads this process's numbers. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "util/status.h"

namespace recorder::daemon {

struct CpuGuardOptions {
  double threshold = 0.25;        // cpuThreshold: fraction of all processors
  bool kill_enabled = true;       // cpuKillEnabled
  int kill_after_violations = 1;  // cpuKillAfterNumViolations, >= 1
  int window_minutes = 1;         // cpuThresholdMinutes, 1..1440
  // > 0: the window in ms instead of window_minutes (live tests need
  // seconds, not minutes); FromConfig leaves it 0.
  int64_t window_ms = 0;

  static CpuGuardOptions FromConfig(const config::RecorderConfig& config);
  bool operator==(const CpuGuardOptions&) const = default;
};

struct CpuSample {
  int64_t monotonic_ms = 0;  // CLOCK_MONOTONIC (any fixed origin)
  int64_t cpu_time_ms = 0;   // this process: user + system, all threads
  int online_cpus = 1;       // processors online now (< 1 is read as 1)
};

struct CpuGuardReport {
  bool window_closed = false;  // this sample ended a window
  double usage = 0;            // that window's average (fraction of all processors)
  int64_t window_ms = 0;       // that window's length
  bool violation = false;      // that window was over the threshold
  int violations = 0;          // violations so far
  // Stop recording: write the disabled marker (reason below), remove the
  // rules, exit. Stays true on every later report.
  bool kill = false;
  std::string reason;
};

class CpuGuard {
 public:
  explicit CpuGuard(CpuGuardOptions options);

  CpuGuardReport Feed(const CpuSample& sample);

  int violations() const { return violations_; }
  bool tripped() const { return tripped_; }
  const CpuGuardOptions& options() const { return options_; }

 private:
  void StartWindow(const CpuSample& sample);

  CpuGuardOptions options_;
  int64_t window_ms_;
  bool have_window_ = false;
  CpuSample window_start_;
  int window_cpus_ = 1;  // the most processors seen in the window
  int violations_ = 0;
  bool tripped_ = false;
  std::string reason_;
};

// The shell: CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID (all threads of
// this process) and sysconf(_SC_NPROCESSORS_ONLN).
Result<CpuSample> ReadCpuSample();

}  // namespace recorder::daemon
