// The merged filters of every product, compiled once: whether an event
// is recorded. Semantics (docs/filters.md):
//
//  - Per product file p and event type T, p *keeps* an event when it
//    matches one of p's include rules for T (or p has none) and none of
//    p's exclude rules for T, and its process is not excluded by p's
//    process rules.
//  - p has a say on T when it has a section for T or any process
//    exclusion (which reaches every type). An event is recorded when no
//    product has a say on its type, or when at least one that has keeps
//    it: one product's exclusion never removes what another asked for.
//  - Excluding a process (a process exclude rule testing only exe,
//    parent_exe, cmdline, user, uid, auid) excludes everything it does
//    and, unless the rule says "children": false, its descendants and
//    everything they do; ancestry comes from a ProcessLineage.
//  - watchlist.json wins over all of that for file events; with
//    onlyWatchFileRoot false, file events outside it are dropped.
//
// Immutable and shareable across threads; the per-thread mutable part is
// a MatchScratch.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "filter/event_fields.h"
#include "filter/field_matcher.h"
#include "filter/filter_rules.h"
#include "filter/process_lineage.h"
#include "filter/watchlist_matcher.h"
#include "normalize/typed_event.h"
#include "util/status.h"

namespace recorder::filter {

class TypeMatcher;
class CompiledFilters;
struct Hits;

// Why an event was dropped, for the counters.
enum class DropReason : uint8_t { kKept, kRule, kProcess, kWatchlistOnly };

// What one thread needs to run the matchers: stamps for counting matched
// conditions without clearing arrays, scratch strings, and a small memo
// of process-instance verdicts (a cache of what the lineage and the rules
// say, never a second process table: it forgets freely).
class MatchScratch {
 public:
  MatchScratch();
  ~MatchScratch();

 private:
  friend class TypeMatcher;
  friend class CompiledFilters;
  struct MemoEntry {
    uint64_t node = 0;  // NodeTag() of the instance's host: pids repeat across hosts
    int32_t pid = 0;
    int64_t start_ms = -1;
    uint64_t excluded = 0;     // products whose process rules exclude this instance
    uint64_t inheritable = 0;  // ... and its descendants
    uint64_t owner = 0;        // CompiledFilters::id_ that computed it; 0 = empty
  };
  static constexpr size_t kMemoSize = 4096;

  MemoEntry* Memo(uint64_t node, int32_t pid, int64_t start_ms);
  // 0 for this machine, else a hash of the host's name.
  static uint64_t NodeTag(std::string_view node) {
    return node.empty() ? 0 : std::hash<std::string_view>{}(node) | 1;
  }

  uint32_t generation_ = 0;
  std::vector<uint32_t> condition_stamp_;
  std::vector<uint32_t> rule_stamp_;
  std::vector<uint16_t> rule_count_;
  MatchBuffers buffers_;
  FieldBuffers fields_;
  std::vector<MemoEntry> memo_;
};

class CompiledFilters {
 public:
  static Result<std::shared_ptr<const CompiledFilters>> Compile(const FilterConfig& config);
  ~CompiledFilters();

  // Whether `event` is recorded. `lineage` may be null (then process
  // exclusions reach only the excluded process's own events). The
  // lineage must already know the event's process (the filter runs after
  // the enrich stage has applied the event to its table).
  DropReason Decide(const TypedEvent& event, const ProcessLineage* lineage,
                    MatchScratch* scratch) const;
  bool Keep(const TypedEvent& event, const ProcessLineage* lineage, MatchScratch* scratch) const {
    return Decide(event, lineage, scratch) == DropReason::kKept;
  }

  // No product file and no watchlist: every event is recorded.
  bool empty() const { return empty_; }
  const FilterConfig& config() const { return config_; }
  // Some process rule reads cmdline: the lineage should keep argv.
  bool needs_argv() const { return needs_argv_; }

 private:
  CompiledFilters();
  // Products whose process exclusions reach `event` (its process or an
  // ancestor).
  uint64_t ProcessExclusion(const TypedEvent& event, EventType type, const ProcessLineage* lineage,
                            MatchScratch* scratch) const;
  uint64_t Inheritable(std::string_view node, int32_t pid, int64_t start_ms, int64_t at_ms,
                       const ProcessLineage* lineage, MatchScratch* scratch) const;

  const uint64_t id_;  // unique per compilation, for the scratch's memo
  FilterConfig config_;
  bool empty_ = true;
  size_t max_conditions_ = 0;
  size_t max_rules_ = 0;
  bool needs_argv_ = false;
  // Per type: include rules and exclusions of single events.
  std::array<std::unique_ptr<TypeMatcher>, kEventTypeCount> types_;
  // Process exclusions that describe a process (instance-wide): they reach
  // its other events and its descendants.
  std::unique_ptr<TypeMatcher> instance_;
  // Products with a say on each type, and those with include rules for it.
  std::array<uint64_t, kEventTypeCount> say_{};
  std::array<uint64_t, kEventTypeCount> includes_{};
  uint64_t process_excluders_ = 0;  // products with instance-wide process exclusions
  std::unique_ptr<WatchlistMatcher> watchlist_;
};

}  // namespace recorder::filter
