// Signals as replay and the live recorder set them up: the rules of a
// directory loaded and compiled, every rule not loaded reported, and the
// loaded rules as the store's signal_rules rows (RecordSignalDefinitions).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"
#include "store/event_store.h"
#include "util/status.h"

namespace recorder {

struct LoadedSignals {
  std::shared_ptr<const signals::SignalMatcher> matcher;
  std::vector<signals::RuleReport> reports;  // every file, loaded or not
  // One line per rule not loaded ("FILE: skipped: reason"), for the log.
  std::vector<std::string> problems;
  size_t loaded = 0;
  std::vector<store::SignalRuleRow> rows;  // the loaded rules, for signal_rules
};

// Loads every rule under `dir`. A missing directory is no rules when
// `missing_ok` (the default signalsLocation), else an error; a broken rule
// is reported and the others are used. Errors: the directory cannot be
// read, or the rules do not compile together (an internal limit).
Result<LoadedSignals> LoadSignals(const std::string& dir, bool substring_matching, bool missing_ok);

}  // namespace recorder
