#include "investigate/process_report.h"

namespace recorder::investigate {

Result<ProcessReport> LoadProcessReport(store::Database& db, int64_t process_id) {
  ProcessReport report;
  Result<ProcessInfo> process = LoadProcess(db, process_id);
  if (!process.ok()) return process.status();
  report.process = std::move(*process);
  Result<std::vector<ProcessInfo>> ancestors = LoadAncestry(db, report.process);
  if (!ancestors.ok()) return ancestors.status();
  report.ancestors = std::move(*ancestors);
  Result<std::vector<EventRow>> activity = LoadProcessActivity(db, process_id);
  if (!activity.ok()) return activity.status();
  report.activity = std::move(*activity);
  for (EventKind kind : kAllEventKinds) {
    int64_t count = 0;
    for (const EventRow& row : report.activity) count += row.kind == kind;
    if (count > 0) report.counts.emplace_back(kind, count);
  }
  return report;
}

}  // namespace recorder::investigate
