// Which audit rules a recorder with a given configuration installs: one
// answer for `recorder run` (RuleKeeper), `recorder install` (the rules.d
// file auditd loads in plugin mode), `recorder status` when no recorder
// runs (what it compares the kernel with) and `recorder config show`.
// With filters it is DeriveRulesWithFilters' set (the pushed-down "never"
// rules and the "always" rules, watchedPaths widened for the watchlist);
// without, DeriveRules'.
#pragma once

#include <vector>

#include "config/config.h"
#include "filter/compiled_filters.h"
#include "rules/audit_rule.h"
#include "rules/filter_pushdown.h"
#include "util/status.h"

namespace recorder::rules {

struct RecorderRules {
  std::vector<RuleSpec> rules;  // install these, in this order
  PushdownPlan pushdown;        // empty without filters
};

// `filters` may be null (no filter files: DeriveRules). A dir= or path=
// exclusion on a directory that does not exist here stays in user space
// (the kernel refuses such a rule).
RecorderRules RecorderRulesFor(const config::RecorderConfig& config,
                               const filter::CompiledFilters* filters);

// Reads the filter files `config` names and derives the rules with them.
// A bad filter file is the error (the recorder would not start with it).
Result<RecorderRules> LoadRecorderRules(const config::RecorderConfig& config);

}  // namespace recorder::rules
