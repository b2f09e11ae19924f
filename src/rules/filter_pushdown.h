// Kernel pushdown of filters: the exclusions an audit rule can express
// become "never" rules on the exit list, placed before the recorder's
// "always" rules, so the kernel never emits those events. What a rule can
// express: exe (equals), uid / auid (a value or range), success, syscall
// (names), and for file events the path (equals -> path=, a directory
// prefix -> dir=). Everything else stays in user space, and every
// exclusion is applied in user space as well: the kernel rules only ever
// leave out a subset of what the user-space filter drops.
//
// Safety rules (docs/filters.md):
//  - the process lifecycle syscalls (execve, execveat, exit_group) are
//    never covered: the process table must see every exec and exit, or
//    the descendants of an excluded process could not be recognised;
//  - an exclusion is pushed down only when every other product file with
//    a say on those events excludes them the same way (one product's
//    exclusion never removes another's data);
//  - file exclusions are not pushed down where they could touch a
//    watchlist path, and never for two-path calls (rename, link), whose
//    second path the kernel would judge too;
//  - at most `max_rules` rules: each one costs every audited syscall a
//    comparison in the kernel.
// Pure: no kernel access (BuildKernelRule turns the specs into the
// kernel's form; RuleManager installs them).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "filter/filter_rules.h"
#include "rules/audit_rule.h"

namespace recorder::rules {

struct PushdownOptions {
  std::string rule_key = "recorder";
  size_t max_rules = 64;
  // Whether a directory exists (dir= and path= rules need it when they are
  // added); null = assume it does. Live wiring passes a real check.
  std::function<bool(const std::string&)> directory_exists;
};

// What became of one exclusion rule.
struct PushdownNote {
  std::string rule;                      // the filter rule's "file: place"
  bool pushed = false;                   // some kernel rule covers it
  std::string reason;                    // why it is (partly) filtered in user space only
  std::vector<std::string> audit_rules;  // auditctl text of its kernel rules
};

struct PushdownPlan {
  std::vector<RuleSpec> rules;  // "never" rules, in order
  std::vector<PushdownNote> notes;
};

// `recorder_rules`: what DeriveRules() gives for the configuration; the
// never rules cover exactly the syscalls of its "always" rules.
PushdownPlan PlanPushdown(const filter::FilterConfig& filters,
                          const std::vector<RuleSpec>& recorder_rules,
                          const PushdownOptions& options = {});

// The paths the recorder's file rules must cover (config watchedPaths, as
// DeriveRules reads it) once the watchlist is taken into account: its
// paths are added (the watchlist records them even outside watchedPaths),
// or, with onlyWatchFileRoot false, are the only ones. "/" stays "/".
std::vector<std::string> WatchedPathsWithWatchlist(const std::vector<std::string>& watched_paths,
                                                   const filter::FilterConfig& filters);

// `recorder_rules` with `pushdown` inserted after its leading "never"
// rules (the recorder's own exclusion) and before its first "always" rule.
std::vector<RuleSpec> WithPushdown(std::vector<RuleSpec> recorder_rules,
                                   const std::vector<RuleSpec>& pushdown);

// Everything live recording installs once filters are loaded: DeriveRules()
// over the configuration with watchedPaths widened for the watchlist,
// and the pushed-down exclusions placed (options.rule_key is taken from
// the configuration).
struct FilteredRules {
  std::vector<RuleSpec> rules;  // install these, in this order
  PushdownPlan pushdown;        // what was pushed down and why not (for status)
};
FilteredRules DeriveRulesWithFilters(const config::RecorderConfig& config,
                                     const filter::FilterConfig& filters,
                                     PushdownOptions options = {});

}  // namespace recorder::rules
