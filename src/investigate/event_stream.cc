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
  std::string_view table;  // the view's main table: `time` and process_id are its columns
  std::string_view time;
  std::string_view success;
  std::string_view detail;
};

constexpr KindSource kSources[] = {
    {EventKind::kExec, "processes", "process_data", "start_time", "success",
     "ifnull(cmdline, exe)"},
    {EventKind::kExit, "processes", "process_data", "end_time", "NULL",
     "'exit ' || ifnull(exit_code, '?')"},
    {EventKind::kFile, "file_events", "file_data", "time", "success",
     "operation || ' ' || ifnull(path, '?') || ifnull(' -> ' || new_path, '')"},
    {EventKind::kNetwork, "network_events", "network_data", "time", "success",
     "direction || ifnull(' ' || protocol, '') || "
     "ifnull(' remote ' || remote_address || ifnull(':' || remote_port, ''), '') || "
     "ifnull(' local ' || local_address || ifnull(':' || local_port, ''), '')"},
    {EventKind::kSecurity, "security_events", "security_data", "time", "success",
     "kind || ' ' || ifnull(result, '') || ifnull(' target=' || target_user, '') || "
     "ifnull(' address=' || address, '') || ifnull(' terminal=' || terminal, '') || "
     "ifnull(' ' || detail, '')"},
    {EventKind::kModule, "module_events", "module_data", "time", "success",
     "operation || ' ' || ifnull(module, '?')"},
    {EventKind::kImage, "image_events", "image_data", "time", "NULL",
     "'load ' || ifnull(path, '?') || ifnull(' sha256=' || sha256, '')"},
    {EventKind::kDns, "dns_events", "dns_data", "time", "NULL",
     "'query ' || ifnull(query, '?') || ifnull(' ' || type, '') || CASE WHEN response_seen "
     "THEN ' ' || ifnull(rcode, '') || ifnull(' -> ' || nullif(response, ''), '') "
     "ELSE ' no response' END"},
    {EventKind::kFailedExec, "failed_execs", "failed_exec_data", "time", "NULL",
     "'exec ' || ifnull(path, '?') || ' failed: ' || ifnull(error, 'errno ' || errno)"},
    {EventKind::kRegistry, "registry_events", "registry_data", "time", "NULL",
     "ifnull(event_type, '?') || ' ' || ifnull(target_object, '?') || "
     "ifnull(' = ' || details, '') || ifnull(' -> ' || new_name, '')"},
};

const KindSource& SourceOf(EventKind kind) { return kSources[static_cast<int>(kind)]; }

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

// What Search looks in, by kind. On the view: `contains` columns match
// the term as a substring, `exact` ones whole ("0" should find uid 0, not
// every uid with a 0 in it). The rows are picked through the table's
// indexes first (store::SearchIndexSql(), when a database has
// them), so a search need not scan an event table: CandidateSelect picks the rows of `table` whose
// interned strings are in temp.search_strings, whose commands are in
// temp.search_commands, or whose user or port columns equal the term (?2
// its string id, ?4 its number): the process_id (of a process) or the
// process_id and time (of an event), as the view has no row id; at most
// the limit's worth, the first stored. Text a table holds itself (image
// sha256, DNS names) is matched by LIKE there, which scans that table.
struct SearchSource {
  std::string_view group;
  const KindSource* source;
  std::vector<std::string_view> contains;
  std::vector<std::string_view> exact;
  std::string_view table;
  std::vector<std::string_view> strings;  // interned string columns
  std::vector<std::string_view> users;    // interned user columns
  std::vector<std::string_view> numbers;  // integer columns
  std::vector<std::string_view> scanned;  // text columns
};

// `by_node`: only rows of processes of the host whose string id is ?6.
std::string CandidateSelect(const SearchSource& search, bool by_node) {
  std::vector<std::string> conditions;
  for (std::string_view column : search.strings)
    conditions.push_back(fmt::format("{} IN temp.search_strings", column));
  if (search.group == "process") conditions.push_back("command_id IN temp.search_commands");
  for (std::string_view column : search.users) conditions.push_back(fmt::format("{} = ?2", column));
  for (std::string_view column : search.numbers)
    conditions.push_back(fmt::format("{} = ?4", column));
  std::string scanned;
  for (std::string_view column : search.scanned)
    scanned += fmt::format("{}{} LIKE ?1 ESCAPE '\\'", scanned.empty() ? "" : " OR ", column);
  if (!scanned.empty()) conditions.push_back(scanned);
  // The first ?3 matching rows in the order they were stored (about time
  // order), taken per column: an equality on one indexed column reads
  // its rows in that order and stops at the limit, so a term that matches
  // a million rows (a common user) costs a few index pages, not a million
  // row ids collected and sorted.
  const bool process = search.group == "process";
  const std::string_view key = process ? "process_id" : "id";
  const std::string columns = process ? "process_id" : "process_id, time, id";
  const std::string_view node = !by_node  ? ""
                                : process ? " AND node_id = ?6"
                                          : " AND process_id IN (SELECT process_id FROM "
                                            "process_data WHERE node_id = ?6)";
  std::string arms;
  for (const std::string& condition : conditions)
    arms += fmt::format("{}SELECT * FROM (SELECT {} FROM {} WHERE ({}){} ORDER BY {} LIMIT ?3)",
                        arms.empty() ? "" : " UNION ", columns, search.table, condition, node, key);
  return fmt::format("SELECT {} FROM ({}) ORDER BY {} LIMIT ?3",
                     process ? "process_id" : "process_id, time", arms, key);
}

// Fills temp.search_strings and temp.search_commands with the ids whose
// text contains `pattern`: the only scans of a search, over the
// deduplicated strings and commands rather than the events.
Status FillSearchIds(store::Database& db, const std::string& pattern) {
  for (std::string_view table : {"search_strings", "search_commands"}) {
    Status status =
        db.Exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS {}(id INTEGER PRIMARY KEY)", table));
    if (status.ok()) status = db.Exec(fmt::format("DELETE FROM temp.{}", table));
    if (!status.ok()) return status;
  }
  for (auto [table, source] : {std::pair<std::string_view, std::string_view>{
                                   "search_strings", "SELECT id FROM strings WHERE value"},
                               {"search_commands", "SELECT id FROM commands WHERE cmdline"}}) {
    auto stmt =
        db.Prepare(fmt::format("INSERT INTO temp.{} {} LIKE ?1 ESCAPE '\\'", table, source));
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindText(1, pattern);
    Result<bool> done = (*stmt)->Step();
    if (!done.ok()) return done.status();
  }
  return Status::Ok();
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
  const std::string conditions = QueryConditions(query, lower);
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
  BindQuery(query, lower, stmt->get());
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

Result<std::vector<MinuteCount>> LoadHistogram(store::Database& db, const TimelineQuery& query) {
  const std::string conditions = QueryConditions(query, query.since);
  // Without a user, exe or node condition the counts come from the tables
  // alone: the view's join to the process and its strings would be read
  // for every event counted.
  const bool tables_only = query.user.empty() && query.exe_glob.empty() && query.node.empty();
  std::string sql;
  for (const KindSource& source : kSources) {
    bool wanted = query.kinds.empty();
    for (EventKind kind : query.kinds) wanted = wanted || kind == source.kind;
    if (!wanted) continue;
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

Result<std::vector<SearchGroup>> Search(store::Database& db, std::string_view term,
                                        int64_t limit_per_kind, std::string_view node) {
  if (term.empty()) return Status::Error(StatusCode::kInvalid, "empty search term");
  const std::vector<SearchSource> sources = {
      {"process",
       &SourceOf(EventKind::kExec),
       {"exe", "cmdline", "sha256"},
       {"user"},
       "process_data",
       {"exe_id", "sha256_id"},
       {"user_id"},
       {},
       {}},
      {"file",
       &SourceOf(EventKind::kFile),
       {"path", "new_path"},
       {},
       "file_data",
       {"path_id", "new_path_id"},
       {},
       {},
       {}},
      {"network",
       &SourceOf(EventKind::kNetwork),
       {"remote_address"},
       {"CAST(remote_port AS TEXT)", "CAST(local_port AS TEXT)"},
       "network_data",
       {"remote_address_id"},
       {},
       {"remote_port", "local_port"},
       {}},
      {"security",
       &SourceOf(EventKind::kSecurity),
       {"target_user", "address", "terminal", "detail", "hostname"},
       {},
       "security_data",
       {"target_user_id", "address_id", "terminal_id", "detail_id", "hostname_id"},
       {},
       {},
       {}},
      {"module",
       &SourceOf(EventKind::kModule),
       {"module"},
       {},
       "module_data",
       {"module_id"},
       {},
       {},
       {}},
      {"image",
       &SourceOf(EventKind::kImage),
       {"path", "sha256"},
       {},
       "image_data",
       {"path_id"},
       {},
       {},
       {"sha256"}},
      {"dns",
       &SourceOf(EventKind::kDns),
       {"query", "response"},
       {},
       "dns_data",
       {},
       {},
       {},
       {"query", "response"}},
      {"failed_exec",
       &SourceOf(EventKind::kFailedExec),
       {"path"},
       {},
       "failed_exec_data",
       {"path_id"},
       {},
       {},
       {}},
      {"registry",
       &SourceOf(EventKind::kRegistry),
       {"target_object", "details", "new_name"},
       {},
       "registry_data",
       {"target_object_id", "details_id", "new_name_id"},
       {},
       {},
       {}},
  };
  const std::string pattern = ContainsPattern(term);
  Status filled = FillSearchIds(db, pattern);
  if (!filled.ok()) return filled;
  // The term's own string id (user columns match whole), the node's, and
  // the term's value as a port number; none matches anything when there
  // is none.
  auto string_id = [&db](std::string_view text) -> Result<int64_t> {
    auto stmt = db.Prepare("SELECT id FROM strings WHERE value = ?1");
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindText(1, text);
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    return *row ? (*stmt)->ColumnInt(0) : int64_t{-1};
  };
  Result<int64_t> term_id = string_id(term);
  if (!term_id.ok()) return term_id.status();
  Result<int64_t> node_id = node.empty() ? Result<int64_t>(int64_t{-1}) : string_id(node);
  if (!node_id.ok()) return node_id.status();
  int64_t number = -1;
  {
    auto [ptr, ec] = std::from_chars(term.data(), term.data() + term.size(), number);
    if (ec != std::errc() || ptr != term.data() + term.size() || number < 0) number = -1;
  }
  std::vector<SearchGroup> groups;
  for (const SearchSource& search : sources) {
    // The rows are picked through the table's indexes, the view renders
    // them. An event is known by its process and time, which another row
    // may share: the match is checked again on the view's row.
    KindSource source = *search.source;
    std::string restriction;
    if (search.group == "process") {
      // A process row without a start (a placeholder) is still a hit: it
      // sorts by its end, or first.
      source.time = "coalesce(start_time, end_time, 0)";
      restriction = fmt::format(" AND process_id IN ({})", CandidateSelect(search, !node.empty()));
    } else {
      restriction =
          fmt::format(" AND (process_id, time) IN ({})", CandidateSelect(search, !node.empty()));
    }
    std::string recheck;
    for (std::string_view column : search.contains)
      recheck += fmt::format("{}{} LIKE ?1 ESCAPE '\\'", recheck.empty() ? "" : " OR ", column);
    for (std::string_view column : search.exact) recheck += fmt::format(" OR {} = ?5", column);
    restriction += fmt::format(" AND ({})", recheck);
    auto stmt = db.Prepare(fmt::format("{}{} LIMIT ?3", SelectArm(source, restriction), kOrder));
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindText(1, pattern);
    (*stmt)->BindInt(2, *term_id);
    (*stmt)->BindInt(3, limit_per_kind + 1);
    (*stmt)->BindInt(4, number);
    (*stmt)->BindText(5, term);
    if (!node.empty()) (*stmt)->BindInt(6, *node_id);
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
