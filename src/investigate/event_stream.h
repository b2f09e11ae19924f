// Events of every kind in one time-ordered stream: the activity of one
// process and a timeline over the whole database (paged); a search for a
// term in every table is event_search.h. Each event view of
// docs/schema.md contributes rows of one shape (EventRow), with a
// one-line `detail` made in SQL, so the text and JSON formatters and the
// web view show the same thing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// The kinds, in the order ties in time are broken. "exec" and "exit" are
// the start and end of rows of `processes`.
enum class EventKind {
  kExec,
  kExit,
  kFile,
  kNetwork,
  kSecurity,
  kModule,
  kImage,
  kDns,
  kFailedExec,
  kRegistry
};

inline constexpr EventKind kAllEventKinds[] = {
    EventKind::kExec,       EventKind::kExit,    EventKind::kFile,  EventKind::kNetwork,
    EventKind::kSecurity,   EventKind::kModule,  EventKind::kImage, EventKind::kDns,
    EventKind::kFailedExec, EventKind::kRegistry};

// "exec", "exit", "file", "network", "security", "module", "image", "dns",
// "failed_exec", "registry".
std::string_view EventKindName(EventKind kind);
// The kinds a comma-separated list names; "process" is exec and exit.
// kInvalid naming the unknown word and the known ones otherwise.
Result<std::vector<EventKind>> ParseEventKinds(std::string_view list);

struct EventRow {
  int64_t time = 0;  // ms since the epoch
  EventKind kind = EventKind::kFile;
  int64_t process_id = 0;
  int64_t pid = 0;
  std::string exe;
  std::string user;
  std::optional<bool> success;
  std::string detail;  // "write /etc/passwd", "outbound tcp ... -> 10.0.0.1:443"
};

// Everything `process_id` did, in time order (its own exec and exit
// included).
Result<std::vector<EventRow>> LoadProcessActivity(store::Database& db, int64_t process_id);

struct TimelineQuery {
  std::optional<int64_t> since;  // inclusive, ms
  std::optional<int64_t> until;  // inclusive, ms
  std::vector<EventKind> kinds;  // empty: all
  std::string user;              // exact user column (name or uid text); empty: any
  std::string exe_glob;          // SQLite GLOB on exe; empty: any
  std::string node;              // exact host (the views' node); empty: any
  int64_t limit = 100;
  std::string after;  // a TimelinePage::next cursor; empty: from the start
};

struct TimelinePage {
  std::vector<EventRow> events;
  std::string next;  // cursor for the following page; empty when this is the last
};

// Whether `query` asks for events of `kind` (no kinds: every kind).
bool Selects(const TimelineQuery& query, EventKind kind);

// kInvalid for a malformed `after` cursor.
Result<TimelinePage> LoadTimeline(store::Database& db, const TimelineQuery& query);

// The events of one minute: `minute` is its first ms since the epoch.
struct MinuteCount {
  int64_t minute = 0;
  int64_t count = 0;
};

// Events per minute that `query` selects (its since, until, kinds, user,
// exe and node; limit and after do not apply), in time order; minutes without
// events are left out.
Result<std::vector<MinuteCount>> LoadHistogram(store::Database& db, const TimelineQuery& query);

}  // namespace recorder::investigate
