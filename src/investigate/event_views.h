// How the event views of docs/schema.md read as one stream of EventRows:
// for each kind, its view, time column and one-line detail in SQL. Shared
// by the timeline (event_stream.cc) and search (event_search.cc).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "investigate/event_stream.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// How one kind's rows come out of its view. `time` may be NULL in
// `processes` (a placeholder's unknown start); such rows are not events.
struct KindSource {
  EventKind kind;
  std::string_view view;
  std::string_view table;  // the view's main table: `time` and process_id are its columns
  std::string_view time;
  std::string_view success;
  std::string_view detail;
};

// Every kind's, in EventKind order.
std::span<const KindSource> KindSources();
const KindSource& SourceOf(EventKind kind);

// One kind's rows as (time, kind, process_id, pid, exe, user, success,
// detail), restricted by `conditions` written against `time`.
std::string SelectArm(const KindSource& source, std::string_view conditions);

// The order of a stream: time, then kind (EventKind order), then the rest
// so that equal times come out the same way every time.
inline constexpr std::string_view kEventOrder = " ORDER BY time, kind, process_id, detail, success";

// The rows of a statement made of SelectArm()s.
Result<std::vector<EventRow>> ReadEventRows(store::Statement& stmt);

}  // namespace recorder::investigate
