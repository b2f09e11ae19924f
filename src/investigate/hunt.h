// Hunts: Sigma rules run over what monitor.db already holds, the
// question "did this ever happen here?" (`recorder signals hunt`,
// docs/signals.md). The events the signal matcher sees are rebuilt from
// the stored rows: process creations (with the parent's image and
// command line from the parent's row), file events and network
// connections (with DestinationHostname from the stored DNS answers);
// Windows rules run over the Sysmon records kept whole (sysmon_events).
// auditd rules are not served: they match the raw audit records, which
// the database does not keep.
//
// Read-only: the caller opens the database (OpenInvestigationDb) and
// decides what to do with the matches.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signals/sigma_fields.h"
#include "signals/signal_matcher.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// Whether a hunt can serve rules of `source`; when not, why (for the
// report of the rules it leaves out).
bool HuntServes(signals::LogSource source);
std::string_view HuntUnservedReason(signals::LogSource source);

struct HuntProgress {
  std::string_view table;  // the view being read: processes, ..., sysmon_events
  int64_t done = 0;        // rows of it read
  int64_t total = 0;       // about how many it has (its largest row id)
};

struct HuntQuery {
  std::optional<int64_t> since;  // inclusive, ms: the event's time (a process's start)
  std::optional<int64_t> until;  // inclusive, ms
  // Called every few ten thousand rows; may be empty.
  std::function<void(const HuntProgress&)> progress;
};

struct HuntMatch {
  uint32_t rule = 0;        // index into the matcher's rules()
  int64_t time = 0;         // the event's, ms
  std::string event_table;  // processes, file_events, ... (the view, as signal_matches)
  int64_t event_row = 0;    // the process_id for processes, else the row id behind the view
  int64_t process_id = 0;
  int64_t pid = 0;
  std::string exe;
  std::string selection;  // the selections that held, comma-separated
};

struct HuntResult {
  std::vector<HuntMatch> matches;  // by rule (the matcher's order), then time, table, row
  // Events the rules were run over, by view.
  int64_t processes = 0;
  int64_t file_events = 0;
  int64_t network_events = 0;
  int64_t dns_answers = 0;     // DNS responses read to name destinations
  int64_t sysmon_records = 0;  // Sysmon records the Windows rules were run over
  // Rows of processes imported from Sysmon logs (and their events) left
  // out of the Linux scans: a Linux rule must not match them (as in
  // replay, a rule matches only its own platform's events).
  int64_t windows_skipped = 0;
};

// Runs `matcher`'s rules of the sources a hunt serves over `db`. Errors:
// SQLite's, naming what was being read.
Result<HuntResult> Hunt(store::Database& db, const signals::SignalMatcher& matcher,
                        const HuntQuery& query);

}  // namespace recorder::investigate
