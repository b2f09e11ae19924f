// A term looked for in every table, the hits grouped by kind as rows of
// the event stream (event_stream.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "investigate/event_stream.h"
#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// The hits of one kind ("process" for rows of `processes`, else an
// EventKindName), at most the limit; `more` when there were others.
struct SearchGroup {
  std::string kind;
  std::vector<EventRow> hits;
  bool more = false;
};

// `term` as a substring (ASCII case-insensitive) of the paths, addresses,
// hashes, users, modules, command lines and details of every table; with
// a `node`, only the hits of that host's processes. Groups without hits
// are left out. kInvalid for an empty term.
Result<std::vector<SearchGroup>> Search(store::Database& db, std::string_view term,
                                        int64_t limit_per_kind, std::string_view node = {});

}  // namespace recorder::investigate
