#include "daemon/cpu_guard.h"

#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace recorder::daemon {

namespace {

constexpr int64_t kMsPerMinute = 60'000;

int64_t ToMs(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

CpuGuardOptions CpuGuardOptions::FromConfig(const config::RecorderConfig& config) {
  CpuGuardOptions options;
  options.threshold = config.cpu_threshold;
  options.kill_enabled = config.cpu_kill_enabled;
  options.kill_after_violations = config.cpu_kill_after_num_violations;
  options.window_minutes = config.cpu_threshold_minutes;
  return options;
}

CpuGuard::CpuGuard(CpuGuardOptions options) : options_(options) {
  options_.kill_after_violations = std::max(options_.kill_after_violations, 1);
  options_.window_minutes = std::clamp(options_.window_minutes, 1, 1440);
  window_ms_ = options_.window_ms > 0
                   ? options_.window_ms
                   : static_cast<int64_t>(options_.window_minutes) * kMsPerMinute;
}

void CpuGuard::StartWindow(const CpuSample& sample) {
  have_window_ = true;
  window_start_ = sample;
  window_cpus_ = std::max(sample.online_cpus, 1);
}

CpuGuardReport CpuGuard::Feed(const CpuSample& sample) {
  CpuGuardReport report;
  report.violations = violations_;
  report.kill = tripped_;
  report.reason = reason_;
  if (!have_window_ || sample.monotonic_ms < window_start_.monotonic_ms ||
      sample.cpu_time_ms < window_start_.cpu_time_ms) {
    StartWindow(sample);
    return report;
  }
  // Hot-plugged processors: the most seen, so a window is never judged
  // against less capacity than it had (the switch errs towards recording).
  window_cpus_ = std::max(window_cpus_, std::max(sample.online_cpus, 1));
  const int64_t elapsed_ms = sample.monotonic_ms - window_start_.monotonic_ms;
  if (elapsed_ms < window_ms_) return report;

  const int64_t cpu_ms = sample.cpu_time_ms - window_start_.cpu_time_ms;
  report.window_closed = true;
  report.window_ms = elapsed_ms;
  report.usage = static_cast<double>(cpu_ms) /
                 (static_cast<double>(elapsed_ms) * static_cast<double>(window_cpus_));
  report.violation = report.usage > options_.threshold;
  if (report.violation) {
    ++violations_;
    report.violations = violations_;
    if (options_.kill_enabled && !tripped_ && violations_ >= options_.kill_after_violations) {
      tripped_ = true;
      reason_ = fmt::format(
          "CPU kill switch: the recorder used {:.1f}% of {} processor(s) over {:.1f} minute(s), "
          "over cpuThreshold {:.1f}% ({} violation(s), cpuKillAfterNumViolations {})",
          report.usage * 100, window_cpus_, static_cast<double>(elapsed_ms) / kMsPerMinute,
          options_.threshold * 100, violations_, options_.kill_after_violations);
      report.kill = true;
      report.reason = reason_;
    }
  }
  StartWindow(sample);
  return report;
}

Result<CpuSample> ReadCpuSample() {
  CpuSample sample;
  timespec now{};
  if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
    return Status::Errorf("clock_gettime(CLOCK_MONOTONIC): {}", std::strerror(errno));
  sample.monotonic_ms = ToMs(now);
  timespec cpu{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu) != 0)
    return Status::Errorf("clock_gettime(CLOCK_PROCESS_CPUTIME_ID): {}", std::strerror(errno));
  sample.cpu_time_ms = ToMs(cpu);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  sample.online_cpus = cpus > 0 ? static_cast<int>(cpus) : 1;
  return sample;
}

}  // namespace recorder::daemon
