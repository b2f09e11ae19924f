#include "investigate/event_stream.h"

#include <fmt/format.h>

#include <charconv>

namespace recorder::investigate {
namespace {

// How one kind's rows come out of its view. `time` may be NULL in
// `processes` (a placeholder's unknown start); such rows are not events.
struct KindSource {
  EventKind kind;
  std::string_view view;
  std::string_view time;
  std::string_view success;
  std::string_view detail;
};

constexpr KindSource kSources[] = {
    {EventKind::kExec, "processes", "start_time", "success", "ifnull(cmdline, exe)"},
    {EventKind::kExit, "processes", "end_time", "NULL", "'exit ' || ifnull(exit_code, '?')"},
    {EventKind::kFile, "file_events", "time", "success",
     "operation || ' ' || ifnull(path, '?') || ifnull(' -> ' || new_path, '')"},
    {EventKind::kNetwork, "network_events", "time", "success",
     "direction || ifnull(' ' || protocol, '') || "
     "ifnull(' remote ' || remote_address || ifnull(':' || remote_port, ''), '') || "
     "ifnull(' local ' || local_address || ifnull(':' || local_port, ''), '')"},
    {EventKind::kSecurity, "security_events", "time", "success",
     "kind || ' ' || ifnull(result, '') || ifnull(' target=' || target_user, '') || "
     "ifnull(' address=' || address, '') || ifnull(' terminal=' || terminal, '') || "
     "ifnull(' ' || detail, '')"},
    {EventKind::kModule, "module_events", "time", "success",
     "operation || ' ' || ifnull(module, '?')"},
    {EventKind::kImage, "image_events", "time", "NULL",
     "'load ' || ifnull(path, '?') || ifnull(' sha256=' || sha256, '')"},
    {EventKind::kDns, "dns_events", "time", "NULL",
     "'query ' || ifnull(query, '?') || ifnull(' -> ' || response, '')"},
    {EventKind::kFailedExec, "failed_execs", "time", "NULL",
     "'exec ' || ifnull(path, '?') || ' failed: ' || ifnull(error, 'errno ' || errno)"},
};

const KindSource& SourceOf(EventKind kind) { return kSources[static_cast<int>(kind)]; }

// Parameters of the generated statements, by number.
constexpr int kLowerParam = 1, kUpperParam = 2, kUserParam = 3, kExeParam = 4, kProcessParam = 5;

// One kind's rows as (time, kind, process_id, pid, exe, user, success,
// detail), restricted by `conditions` written against `time`.
std::string SelectArm(const KindSource& source, std::string_view conditions) {
  return fmt::format(
      "SELECT {0} AS time, {1} AS kind, process_id, pid, exe, user, {2} AS success, {3} AS detail "
      "FROM {4} WHERE {0} IS NOT NULL{5}",
      source.time, static_cast<int>(source.kind), source.success, source.detail, source.view,
      fmt::format(fmt::runtime(conditions), fmt::arg("time", source.time)));
}

constexpr std::string_view kOrder = " ORDER BY time, kind, process_id, detail, success";

EventRow ReadEvent(const store::Statement& s) {
  EventRow row;
  row.time = s.ColumnInt(0);
  row.kind = static_cast<EventKind>(s.ColumnInt(1));
  row.process_id = s.ColumnInt(2);
  row.pid = s.ColumnInt(3);
  row.exe = s.ColumnText(4);
  row.user = s.ColumnText(5);
  if (s.ColumnType(6) != SQLITE_NULL) row.success = s.ColumnInt(6) != 0;
  row.detail = s.ColumnText(7);
  return row;
}

Result<std::vector<EventRow>> ReadAll(store::Statement& stmt) {
  std::vector<EventRow> rows;
  for (;;) {
    Result<bool> row = stmt.Step();
    if (!row.ok()) return row.status();
    if (!*row) return rows;
    rows.push_back(ReadEvent(stmt));
  }
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

// `text` as a LIKE pattern matching it anywhere, with '\' as the escape.
std::string ContainsPattern(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "%";
}

// What Search looks in: columns matched as substrings, and user columns
// matched exactly ("0" should find uid 0, not every uid with a 0 in it).
struct SearchSource {
  std::string_view group;
  const KindSource* source;
  std::vector<std::string_view> contains;
  std::vector<std::string_view> exact;
};

}  // namespace

std::string_view EventKindName(EventKind kind) {
  static constexpr std::string_view kNames[] = {"exec",   "exit",  "file", "network",    "security",
                                                "module", "image", "dns",  "failed_exec"};
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
                            "security, module, image, dns, failed_exec",
                            word);
  }
  if (kinds.empty()) return Status::Error(StatusCode::kInvalid, "no event kind given");
  return kinds;
}

Result<std::vector<EventRow>> LoadProcessActivity(store::Database& db, int64_t process_id) {
  std::string sql;
  for (const KindSource& source : kSources) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += SelectArm(source, fmt::format(" AND process_id = ?{}", kProcessParam));
  }
  auto stmt = db.Prepare(sql + std::string(kOrder));
  if (!stmt.ok()) return stmt.status();
  (*stmt)->BindInt(kProcessParam, process_id);
  return ReadAll(**stmt);
}

Result<TimelinePage> LoadTimeline(store::Database& db, const TimelineQuery& query) {
  int64_t cursor_time = 0, skip = 0;
  if (!query.after.empty() && !ParseCursor(query.after, &cursor_time, &skip))
    return Status::Errorf(StatusCode::kInvalid,
                          "bad cursor '{}': pass the value a previous page printed after --after",
                          query.after);
  std::optional<int64_t> lower = query.since;
  if (!query.after.empty()) lower = lower ? std::max(*lower, cursor_time) : cursor_time;
  std::string conditions;
  if (lower) conditions += fmt::format(" AND {{time}} >= ?{}", kLowerParam);
  if (query.until) conditions += fmt::format(" AND {{time}} <= ?{}", kUpperParam);
  if (!query.user.empty()) conditions += fmt::format(" AND user = ?{}", kUserParam);
  if (!query.exe_glob.empty()) conditions += fmt::format(" AND exe GLOB ?{}", kExeParam);
  std::string sql;
  for (const KindSource& source : kSources) {
    bool wanted = query.kinds.empty();
    for (EventKind kind : query.kinds) wanted = wanted || kind == source.kind;
    if (!wanted) continue;
    if (!sql.empty()) sql += " UNION ALL ";
    sql += SelectArm(source, conditions);
  }
  const int64_t limit = std::max<int64_t>(query.limit, 1);
  auto stmt = db.Prepare(sql + std::string(kOrder) + " LIMIT ?6");
  if (!stmt.ok()) return stmt.status();
  if (lower) (*stmt)->BindInt(kLowerParam, *lower);
  if (query.until) (*stmt)->BindInt(kUpperParam, *query.until);
  if (!query.user.empty()) (*stmt)->BindText(kUserParam, query.user);
  if (!query.exe_glob.empty()) (*stmt)->BindText(kExeParam, query.exe_glob);
  // The rows the cursor says were shown, this page, and one more to know
  // whether another page follows.
  (*stmt)->BindInt(6, skip + limit + 1);
  Result<std::vector<EventRow>> rows = ReadAll(**stmt);
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

Result<std::vector<SearchGroup>> Search(store::Database& db, std::string_view term,
                                        int64_t limit_per_kind) {
  if (term.empty()) return Status::Error(StatusCode::kInvalid, "empty search term");
  const std::vector<SearchSource> sources = {
      {"process",
       &SourceOf(EventKind::kExec),
       {"exe", "cmdline", "cwd", "sha256", "md5", "comm"},
       {"user", "euser", "login_user"}},
      {"file", &SourceOf(EventKind::kFile), {"path", "new_path"}, {"user"}},
      {"network",
       &SourceOf(EventKind::kNetwork),
       {"remote_address", "local_address"},
       {"user", "CAST(remote_port AS TEXT)", "CAST(local_port AS TEXT)"}},
      {"security",
       &SourceOf(EventKind::kSecurity),
       {"target_user", "address", "terminal", "detail", "hostname"},
       {"user"}},
      {"module", &SourceOf(EventKind::kModule), {"module"}, {"user"}},
      {"image", &SourceOf(EventKind::kImage), {"path", "sha256"}, {"user"}},
      {"dns", &SourceOf(EventKind::kDns), {"query", "response"}, {"user"}},
      {"failed_exec", &SourceOf(EventKind::kFailedExec), {"path", "cwd"}, {"user"}},
  };
  const std::string pattern = ContainsPattern(term);
  std::vector<SearchGroup> groups;
  for (const SearchSource& search : sources) {
    std::string match;
    for (std::string_view column : search.contains)
      match += fmt::format("{}{} LIKE ?1 ESCAPE '\\'", match.empty() ? "" : " OR ", column);
    for (std::string_view column : search.exact) match += fmt::format(" OR {} = ?2", column);
    // A process row without a start (a placeholder) is still a hit: it
    // sorts by its end, or first.
    KindSource source = *search.source;
    std::string time = "coalesce(start_time, end_time, 0)";
    if (search.group == "process") source.time = time;
    auto stmt = db.Prepare(SelectArm(source, fmt::format(" AND ({})", match)) +
                           std::string(kOrder) + " LIMIT ?3");
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindText(1, pattern);
    (*stmt)->BindText(2, term);
    (*stmt)->BindInt(3, limit_per_kind + 1);
    Result<std::vector<EventRow>> rows = ReadAll(**stmt);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) continue;
    SearchGroup group;
    group.kind = std::string(search.group);
    group.more = static_cast<int64_t>(rows->size()) > limit_per_kind;
    if (group.more) rows->pop_back();
    group.hits = std::move(*rows);
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace recorder::investigate
