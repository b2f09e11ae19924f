// `recorder show`: one process in full with its parent chain and
// everything it did, counted per kind.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "investigate/event_stream.h"
#include "investigate/process_tree.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

struct ProcessReport {
  ProcessInfo process;
  std::vector<ProcessInfo> ancestors;  // nearest parent first
  std::vector<EventRow> activity;      // time order
  // Events per kind, in kAllEventKinds order; kinds without events left out.
  std::vector<std::pair<EventKind, int64_t>> counts;
};

// kNotFound for an unknown process_id.
Result<ProcessReport> LoadProcessReport(store::Database& db, int64_t process_id);

}  // namespace recorder::investigate
