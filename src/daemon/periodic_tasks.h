// The daemon's timers as a table: each periodic task is a named unit with
// a period and a Run(now); one TaskTable runs the due ones in a fixed
// order. Time comes in as an argument, so the scheduling is tested
// without threads, sleeps or a clock.
//
// A task is due when the monotonic time reaches its due time; after it
// ran at `now`, it is due again at now + period_ms(), with the period read
// after the run (a task may change it: a reload, a cleanup in progress).
// A late call runs a task once, never once per missed period.
//
// Not thread-safe: the event loop's thread owns the table and its tasks.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder::daemon {

struct TaskClock {
  int64_t mono_ms = 0;  // CLOCK_MONOTONIC: what schedules
  int64_t wall_ms = 0;  // ms since the Unix epoch: what rows and logs carry
};

class PeriodicTask {
 public:
  virtual ~PeriodicTask() = default;
  // An error ends the recording: the run stops and says why. Trouble the
  // recording survives (a check that could not read the kernel's state)
  // is the task's to log or count, and Run returns Ok.
  virtual Status Run(const TaskClock& now) = 0;
  // The wait after a run (started at `now`) before the next one; > 0.
  virtual int64_t period_ms() const = 0;
};

// A task made of a function and a fixed period.
std::unique_ptr<PeriodicTask> MakeTask(int64_t period_ms,
                                       std::function<Status(const TaskClock&)> run);

class TaskTable {
 public:
  // `micros` times each run for LastRunUs (a monotonic clock in µs); null:
  // no timing.
  explicit TaskTable(std::function<int64_t()> micros = nullptr) : micros_(std::move(micros)) {}

  // Appends `task`, first due at `first_due_ms` (monotonic).
  void Add(std::string name, std::unique_ptr<PeriodicTask> task, int64_t first_due_ms);

  // Runs every task due at `now.mono_ms`, in the order they were added.
  // Stops at the first error and returns it; the tasks after it stay due.
  Status RunDue(const TaskClock& now);

  // The earliest due time of all tasks (INT64_MAX when there are none):
  // how long the loop may sleep.
  int64_t next_due_ms() const;
  // When `name` is due next; -1 for an unknown name.
  int64_t due_ms(std::string_view name) const;
  // How long `name` took in the last RunDue, in µs (0 when it did not run
  // then, or without a clock).
  int64_t LastRunUs(std::string_view name) const;
  // Names in table order.
  std::vector<std::string> names() const;

 private:
  struct Entry {
    std::string name;
    std::unique_ptr<PeriodicTask> task;
    int64_t due_ms = 0;
    int64_t last_run_us = 0;
  };
  const Entry* Find(std::string_view name) const;

  std::function<int64_t()> micros_;
  std::vector<Entry> entries_;
};

}  // namespace recorder::daemon
