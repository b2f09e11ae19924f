// What the filter stage asks about processes it has no event for: the
// subject's own process instance (its command line when the event is not
// an exec) and its ancestors, so that excluding a process also excludes
// what its descendants do. The enrich stage's process table is the one
// model of processes and answers these questions
// (enrich/table_lineage.h); the filter never keeps a process map of its
// own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/typed_event.h"

namespace recorder::filter {

// One process instance as the filter sees it. Views are valid until the
// lineage's owner changes its table (the filter uses them at once).
struct ProcessFacts {
  std::string_view node;  // the host the instance ran on, as asked ("" for this machine)
  int32_t pid = 0;
  int64_t start_ms = -1;  // instance key with pid; -1 when not known
  int32_t ppid = 0;
  int64_t parent_start_ms = -1;  // the parent instance's key; -1 when not known
  std::string_view exe;
  const std::vector<std::string>* argv = nullptr;  // null when the table keeps no argv
  int64_t uid = kUnsetId;
  int64_t auid = kUnsetId;
};

class ProcessLineage {
 public:
  virtual ~ProcessLineage() = default;
  // The instance of `pid` on `node` (an event's header.node: "" for this
  // machine) that started at `start_ms` when that is >= 0, else the one
  // `pid` was running at `at_ms`. False when unknown. A pid names a process
  // only on its own host: a replay of many hosts' logs asks by node.
  virtual bool Instance(std::string_view node, int32_t pid, int64_t start_ms, int64_t at_ms,
                        ProcessFacts* out) const = 0;
};

}  // namespace recorder::filter
