#include "investigate/event_stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "investigate/event_views.h"

namespace recorder::investigate {
namespace {

// Parameters of the generated statements, by number.
constexpr int kLowerParam = 1, kUpperParam = 2, kUserParam = 3, kExeParam = 4, kProcessParam = 5,
              kNodeParam = 7;

// The conditions on the views' columns a timeline query asks for, written
// against `{time}` (SelectArm), and their binding.
std::string QueryConditions(const TimelineQuery& query, std::optional<int64_t> lower) {
  std::string conditions;
  if (lower) conditions += fmt::format(" AND {{time}} >= ?{}", kLowerParam);
  if (query.until) conditions += fmt::format(" AND {{time}} <= ?{}", kUpperParam);
  if (!query.user.empty()) conditions += fmt::format(" AND user = ?{}", kUserParam);
  if (!query.exe_glob.empty()) conditions += fmt::format(" AND exe GLOB ?{}", kExeParam);
  if (!query.node.empty()) conditions += fmt::format(" AND node = ?{}", kNodeParam);
  return conditions;
}

void BindQuery(const TimelineQuery& query, std::optional<int64_t> lower, store::Statement* stmt) {
  if (lower) stmt->BindInt(kLowerParam, *lower);
  if (query.until) stmt->BindInt(kUpperParam, *query.until);
  if (!query.user.empty()) stmt->BindText(kUserParam, query.user);
  if (!query.exe_glob.empty()) stmt->BindText(kExeParam, query.exe_glob);
  if (!query.node.empty()) stmt->BindText(kNodeParam, query.node);
}

// "TIME.N": the page ended after the first N events at TIME (ms).
bool ParseCursor(std::string_view cursor, int64_t* time, int64_t* skip) {
  const size_t dot = cursor.find('.');
  if (dot == std::string_view::npos) return false;
  auto number = [](std::string_view text, int64_t* out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() && *out >= 0;
  };
  return number(cursor.substr(0, dot), time) && number(cursor.substr(dot + 1), skip);
}

}  // namespace

std::string_view EventKindName(EventKind kind) {
  static constexpr std::string_view kNames[] = {"exec",        "exit",    "file",  "network",
                                                "security",    "module",  "image", "dns",
                                                "failed_exec", "registry"};
  return kNames[static_cast<int>(kind)];
}

Result<std::vector<EventKind>> ParseEventKinds(std::string_view list) {
  std::vector<EventKind> kinds;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view word = list.substr(start, comma - start);
    start = comma + 1;
    if (word.empty()) continue;
    bool known = false;
    for (EventKind kind : kAllEventKinds) {
      if (word == EventKindName(kind) ||
          (word == "process" && (kind == EventKind::kExec || kind == EventKind::kExit))) {
        kinds.push_back(kind);
        known = true;
      }
    }
    if (!known)
      return Status::Errorf(StatusCode::kInvalid,
                            "unknown event kind '{}': use process, exec, exit, file, network, "
                            "security, module, image, dns, failed_exec, registry",
                            word);
  }
  if (kinds.empty()) return Status::Error(StatusCode::kInvalid, "no event kind given");
  return kinds;
}

Result<std::vector<EventRow>> LoadProcessActivity(store::Database& db, int64_t process_id) {
  std::string sql;
  for (const KindSource& source : KindSources()) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += SelectArm(source, fmt::format(" AND process_id = ?{}", kProcessParam));
  }
  auto stmt = db.Prepare(sql + std::string(kEventOrder));
  if (!stmt.ok()) return stmt.status();
  (*stmt)->BindInt(kProcessParam, process_id);
  return ReadEventRows(**stmt);
}

bool Selects(const TimelineQuery& query, EventKind kind) {
  return query.kinds.empty() ||
         std::find(query.kinds.begin(), query.kinds.end(), kind) != query.kinds.end();
}

Result<TimelinePage> LoadTimeline(store::Database& db, const TimelineQuery& query) {
  int64_t cursor_time = 0, skip = 0;
  if (!query.after.empty() && !ParseCursor(query.after, &cursor_time, &skip))
    return Status::Errorf(StatusCode::kInvalid,
                          "bad cursor '{}': pass the value a previous page printed after --after",
                          query.after);
  std::optional<int64_t> lower = query.since;
  if (!query.after.empty()) lower = lower ? std::max(*lower, cursor_time) : cursor_time;
  const std::string conditions = QueryConditions(query, lower);
  std::string sql;
  for (const KindSource& source : KindSources()) {
    if (!Selects(query, source.kind)) continue;
    if (!sql.empty()) sql += " UNION ALL ";
    sql += SelectArm(source, conditions);
  }
  const int64_t limit = std::max<int64_t>(query.limit, 1);
  auto stmt = db.Prepare(sql + std::string(kEventOrder) + " LIMIT ?6");
  if (!stmt.ok()) return stmt.status();
  BindQuery(query, lower, stmt->get());
  // The rows the cursor says were shown, this page, and one more to know
  // whether another page follows.
  (*stmt)->BindInt(6, skip + limit + 1);
  Result<std::vector<EventRow>> rows = ReadEventRows(**stmt);
  if (!rows.ok()) return rows.status();
  size_t first = 0;
  while (first < rows->size() && first < static_cast<size_t>(skip) &&
         (*rows)[first].time == cursor_time)
    ++first;
  TimelinePage page;
  const size_t end = std::min(rows->size(), first + static_cast<size_t>(limit));
  page.events.assign(std::make_move_iterator(rows->begin() + first),
                     std::make_move_iterator(rows->begin() + end));
  if (end < rows->size() && !page.events.empty()) {
    const int64_t last = page.events.back().time;
    int64_t at_last = 0;
    for (size_t i = 0; i < end; ++i) at_last += (*rows)[i].time == last;
    page.next = fmt::format("{}.{}", last, at_last);
  }
  return page;
}

Result<std::vector<MinuteCount>> LoadHistogram(store::Database& db, const TimelineQuery& query) {
  const std::string conditions = QueryConditions(query, query.since);
  // Without a user, exe or node condition the counts come from the tables
  // alone: the view's join to the process and its strings would be read
  // for every event counted.
  const bool tables_only = query.user.empty() && query.exe_glob.empty() && query.node.empty();
  std::string sql;
  for (const KindSource& source : KindSources()) {
    if (!Selects(query, source.kind)) continue;
    if (!sql.empty()) sql += " UNION ALL ";
    sql += fmt::format(
        "SELECT {0} / 60000 AS minute, count(*) AS n FROM {1} WHERE {0} IS NOT NULL{2}"
        " GROUP BY minute",
        source.time, tables_only ? source.table : source.view,
        fmt::format(fmt::runtime(conditions), fmt::arg("time", source.time)));
  }
  auto stmt =
      db.Prepare("SELECT minute, sum(n) FROM (" + sql + ") GROUP BY minute ORDER BY minute");
  if (!stmt.ok()) return stmt.status();
  BindQuery(query, query.since, stmt->get());
  std::vector<MinuteCount> minutes;
  for (;;) {
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    if (!*row) return minutes;
    minutes.push_back({(*stmt)->ColumnInt(0) * 60000, (*stmt)->ColumnInt(1)});
  }
}

}  // namespace recorder::investigate
