#include "daemon/periodic_tasks.h"

#include <algorithm>
#include <limits>

namespace recorder::daemon {
namespace {

class FunctionTask : public PeriodicTask {
 public:
  FunctionTask(int64_t period_ms, std::function<Status(const TaskClock&)> run)
      : period_ms_(period_ms), run_(std::move(run)) {}
  Status Run(const TaskClock& now) override { return run_(now); }
  int64_t period_ms() const override { return period_ms_; }

 private:
  int64_t period_ms_;
  std::function<Status(const TaskClock&)> run_;
};

}  // namespace

std::unique_ptr<PeriodicTask> MakeTask(int64_t period_ms,
                                       std::function<Status(const TaskClock&)> run) {
  return std::make_unique<FunctionTask>(period_ms, std::move(run));
}

void TaskTable::Add(std::string name, std::unique_ptr<PeriodicTask> task, int64_t first_due_ms) {
  entries_.push_back(Entry{std::move(name), std::move(task), first_due_ms, 0});
}

Status TaskTable::RunDue(const TaskClock& now) {
  for (Entry& entry : entries_) entry.last_run_us = 0;
  for (Entry& entry : entries_) {
    if (now.mono_ms < entry.due_ms) continue;
    const int64_t start_us = micros_ ? micros_() : 0;
    Status status = entry.task->Run(now);
    if (micros_) entry.last_run_us = micros_() - start_us;
    // A period below 1 ms would make the loop spin; the table runs a task
    // at most once per call anyway.
    entry.due_ms = now.mono_ms + std::max<int64_t>(1, entry.task->period_ms());
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

int64_t TaskTable::next_due_ms() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const Entry& entry : entries_) next = std::min(next, entry.due_ms);
  return next;
}

const TaskTable::Entry* TaskTable::Find(std::string_view name) const {
  for (const Entry& entry : entries_)
    if (entry.name == name) return &entry;
  return nullptr;
}

int64_t TaskTable::due_ms(std::string_view name) const {
  const Entry* entry = Find(name);
  return entry ? entry->due_ms : -1;
}

int64_t TaskTable::LastRunUs(std::string_view name) const {
  const Entry* entry = Find(name);
  return entry ? entry->last_run_us : 0;
}

std::vector<std::string> TaskTable::names() const {
  std::vector<std::string> out;
  for (const Entry& entry : entries_) out.push_back(entry.name);
  return out;
}

}  // namespace recorder::daemon
