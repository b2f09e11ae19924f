#include "investigate/event_search.h"

#include <fmt/format.h>

#include <charconv>
#include <functional>
#include <set>

#include "investigate/event_views.h"
#include "store/schema.h"

namespace recorder::investigate {
namespace {

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
// every uid with a 0 in it). On the table (CollectHits): the rows whose
// interned strings are in temp.search_strings, whose commands are in
// temp.search_commands, whose user or port columns equal the term, or
// whose own text (image sha256, DNS names) contains it.
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

// One way a row of a table can match. `condition` has {p} where the
// column is named: "+" there keeps SQLite from reading it through an
// index (a scan in row order must stay in row order).
struct SearchArm {
  std::string condition;
  int64_t lookups = 1;  // index seeks to read its rows (one per id of a set)
  bool indexed = false;
};

// The table.column pairs that lead an index: an arm on one can read its
// rows through it (store::SearchIndexSql(), when `search-index` built them).
Result<std::set<std::string>> IndexedColumns(store::Database& db) {
  auto stmt = db.Prepare(
      "SELECT m.name || '.' || ii.name FROM sqlite_schema AS m, pragma_index_list(m.name) AS il, "
      "pragma_index_info(il.name) AS ii WHERE m.type = 'table' AND ii.seqno = 0");
  if (!stmt.ok()) return stmt.status();
  std::set<std::string> columns;
  for (;;) {
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    if (!*row) return columns;
    columns.emplace((*stmt)->ColumnText(0));
  }
}

// The sizes of the id sets FillSearchIds made, and what is indexed.
struct SearchSets {
  int64_t strings = 0;
  int64_t commands = 0;
  std::set<std::string> indexed;
};

// Below this many lookups a table is read through its indexes alone.
constexpr int64_t kFewLookups = 64;

// Fills temp.search_hits with the first ?3 rows of `search.table` (in
// the order they were stored, by key) that match, each with its process
// and time, as the view has no row id. The statements' parameters are
// Search's (?1 pattern, ?2 the term's string id, ?3 the limit, ?4 the
// term as a number, ?6 the node's string id) and ?8, where the read in
// row order stopped.
//
// Two ways to find them, and the cost of each bounded: through the
// indexes, one lookup per id of a set (a term in 70,000 strings is
// 70,000 lookups per column, however few rows are wanted), then a sort of
// every row found; or reading the table in row order, which stops at the
// limit. So the table is read in order first, as far as the lookups would
// cost, and only what is left is looked up: a common term is found near
// the start, a rare one through its few ids. Reading a row tests it
// against every arm (a probe of a set each), about what one lookup costs
// (measured on 10M events: 241k network rows read against three arms in
// 42 ms, 70k ids looked up in 15 ms), so the read goes as far as the
// lookups divided by the arms.
// A column without an index (a database without `search-index`, a text
// column of the table's own) is read in order to the end.
Status CollectHits(store::Database& db, const SearchSource& search, const SearchSets& sets,
                   bool by_node, int64_t limit,
                   const std::function<void(store::Statement&)>& bind) {
  const bool process = search.group == "process";
  const std::string key = process ? "process_id" : "id";
  std::vector<SearchArm> arms;
  auto indexed = [&](std::string_view column) {
    return sets.indexed.count(fmt::format("{}.{}", search.table, column)) > 0;
  };
  for (std::string_view column : search.strings)
    arms.push_back(
        {"{p}" + std::string(column) + " IN temp.search_strings", sets.strings, indexed(column)});
  if (process)
    arms.push_back({"{p}command_id IN temp.search_commands", sets.commands, indexed("command_id")});
  for (std::string_view column : search.users)
    arms.push_back({"{p}" + std::string(column) + " = ?2", 1, indexed(column)});
  for (std::string_view column : search.numbers)
    arms.push_back({"{p}" + std::string(column) + " = ?4", 1, indexed(column)});
  for (std::string_view column : search.scanned)
    arms.push_back({"{p}" + std::string(column) + " LIKE ?1 ESCAPE '\\'", 0, false});
  const std::string node = !by_node  ? ""
                           : process ? " AND node_id = ?6"
                                     : " AND process_id IN (SELECT process_id FROM "
                                       "process_data WHERE node_id = ?6)";
  const std::string columns = fmt::format("{}, process_id, {}", key, process ? "NULL" : "time");

  Status cleared = db.Exec("DELETE FROM temp.search_hits");
  if (!cleared.ok()) return cleared;
  auto range = db.Prepare(fmt::format(
      "SELECT (SELECT min({0}) FROM {1}), (SELECT max({0}) FROM {1})", key, search.table));
  if (!range.ok()) return range.status();
  Result<bool> ranged = (*range)->Step();
  if (!ranged.ok()) return ranged.status();
  if ((*range)->ColumnType(0) == SQLITE_NULL) return Status::Ok();  // an empty table
  const int64_t first = (*range)->ColumnInt(0), last = (*range)->ColumnInt(1);

  bool all_indexed = true;
  int64_t lookups = 0;
  for (const SearchArm& arm : arms) {
    all_indexed = all_indexed && arm.indexed;
    lookups += arm.lookups;
  }
  int64_t scan_end = last;  // the last key read in order
  if (all_indexed)
    scan_end = lookups <= kFewLookups
                   ? first - 1
                   : first + std::min(lookups / static_cast<int64_t>(arms.size()), last - first);
  auto run = [&](const std::string& sql) -> Status {
    auto stmt = db.Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    bind(**stmt);
    (*stmt)->BindInt(8, scan_end);
    return (*stmt)->Run();
  };
  auto with = [](const std::string& condition, std::string_view prefix) {
    return fmt::format(fmt::runtime(condition), fmt::arg("p", prefix));
  };
  if (scan_end >= first) {
    std::string any;
    for (const SearchArm& arm : arms)
      any += fmt::format("{}{}", any.empty() ? "" : " OR ", with(arm.condition, "+"));
    // To the end: no bound, so that a plan says it reads the whole table.
    const std::string bound = scan_end >= last ? "" : key + " <= ?8 AND ";
    Status scanned =
        run(fmt::format("INSERT INTO temp.search_hits SELECT {} FROM {} WHERE {}({}){} ORDER BY {} "
                        "LIMIT ?3",
                        columns, search.table, bound, any, node, key));
    if (!scanned.ok()) return scanned;
    if (scan_end >= last) return Status::Ok();
    auto found = db.QueryInt("SELECT count(*) FROM temp.search_hits");
    if (!found.ok()) return found.status();
    if (*found >= limit) return Status::Ok();
  }
  // The rest through the indexes, each arm's first ?3 after the scan: an
  // equality on one indexed column reads its rows in key order and stops
  // at the limit; a set of ids is looked up id by id and sorted.
  for (const SearchArm& arm : arms) {
    Status looked = run(fmt::format(
        "INSERT OR IGNORE INTO temp.search_hits SELECT {} FROM {} WHERE {} > ?8 AND {}{} ORDER BY "
        "{} LIMIT ?3",
        columns, search.table, key, with(arm.condition, ""), node, key));
    if (!looked.ok()) return looked;
  }
  return Status::Ok();
}

// Whether the trigram index can find the strings containing `term`: three
// characters or more (its smallest unit), and none that LIKE would need
// escaped (with an ESCAPE clause FTS5 reads every row instead).
bool TrigramCanFind(std::string_view term) {
  size_t characters = 0;
  for (char c : term) {
    if (c == '%' || c == '_' || c == '\\') return false;
    characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;  // UTF-8 lead bytes
  }
  return characters >= 3;
}

// Fills temp.search_strings and temp.search_commands with the ids whose
// text contains `term` (`pattern` as LIKE has it): the strings through
// their trigram index when the database has it (`search-index`) and it
// can, and those added since it was brought up to date read through; else
// a read of every string. The commands are few (deduplicated command
// lines) and read through.
Status FillSearchIds(store::Database& db, std::string_view term, const std::string& pattern) {
  for (std::string_view table : {"search_strings", "search_commands"}) {
    Status status =
        db.Exec(fmt::format("CREATE TEMP TABLE IF NOT EXISTS {}(id INTEGER PRIMARY KEY)", table));
    if (status.ok()) status = db.Exec(fmt::format("DELETE FROM temp.{}", table));
    if (!status.ok()) return status;
  }
  Status hits = db.Exec(
      "CREATE TEMP TABLE IF NOT EXISTS search_hits(key INTEGER PRIMARY KEY, process_id INTEGER, "
      "time INTEGER)");
  if (!hits.ok()) return hits;
  Result<bool> trigram = store::SearchTrigramPresent(&db);
  if (!trigram.ok()) return trigram.status();
  const bool by_trigram = *trigram && TrigramCanFind(term);
  for (auto [table, sql] :
       {std::pair<std::string_view, std::string_view>{
            "search_strings", by_trigram
                                  ? "SELECT rowid FROM strings_trigram WHERE value LIKE ?2 "
                                    "UNION ALL SELECT id FROM strings WHERE id > (SELECT "
                                    "last_string_id FROM strings_trigram_extent) AND value LIKE "
                                    "?1 ESCAPE '\\'"
                                  : "SELECT id FROM strings WHERE value LIKE ?1 ESCAPE '\\'"},
        {"search_commands", "SELECT id FROM commands WHERE cmdline LIKE ?1 ESCAPE '\\'"}}) {
    auto stmt = db.Prepare(fmt::format("INSERT INTO temp.{} {}", table, sql));
    if (!stmt.ok()) return stmt.status();
    (*stmt)->BindText(1, pattern);
    (*stmt)->BindText(2, fmt::format("%{}%", term));
    Result<bool> done = (*stmt)->Step();
    if (!done.ok()) return done.status();
  }
  return Status::Ok();
}

}  // namespace

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
  Status filled = FillSearchIds(db, term, pattern);
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
  SearchSets sets;
  Result<std::set<std::string>> indexed = IndexedColumns(db);
  if (!indexed.ok()) return indexed.status();
  sets.indexed = std::move(*indexed);
  for (auto [count, table] :
       {std::pair<int64_t*, std::string_view>{&sets.strings, "search_strings"},
        {&sets.commands, "search_commands"}}) {
    Result<int64_t> n = db.QueryInt(fmt::format("SELECT count(*) FROM temp.{}", table));
    if (!n.ok()) return n.status();
    *count = *n;
  }
  auto bind = [&](store::Statement& stmt) {
    stmt.BindText(1, pattern);
    stmt.BindInt(2, *term_id);
    stmt.BindInt(3, limit_per_kind + 1);
    stmt.BindInt(4, number);
    stmt.BindText(5, term);
    if (!node.empty()) stmt.BindInt(6, *node_id);
  };
  std::vector<SearchGroup> groups;
  for (const SearchSource& search : sources) {
    // The rows are found on the table (CollectHits), the view renders
    // them. An event is known by its process and time, which another row
    // may share: the match is checked again on the view's row.
    Status collected = CollectHits(db, search, sets, !node.empty(), limit_per_kind + 1, bind);
    if (!collected.ok()) return collected;
    KindSource source = *search.source;
    std::string restriction;
    if (search.group == "process") {
      // A process row without a start (a placeholder) is still a hit: it
      // sorts by its end, or first.
      source.time = "coalesce(start_time, end_time, 0)";
      restriction = " AND process_id IN (SELECT key FROM temp.search_hits ORDER BY key LIMIT ?3)";
    } else {
      restriction =
          " AND (process_id, time) IN (SELECT process_id, time FROM temp.search_hits ORDER BY key "
          "LIMIT ?3)";
    }
    std::string recheck;
    for (std::string_view column : search.contains)
      recheck += fmt::format("{}{} LIKE ?1 ESCAPE '\\'", recheck.empty() ? "" : " OR ", column);
    for (std::string_view column : search.exact) recheck += fmt::format(" OR {} = ?5", column);
    restriction += fmt::format(" AND ({})", recheck);
    auto stmt =
        db.Prepare(fmt::format("{}{} LIMIT ?3", SelectArm(source, restriction), kEventOrder));
    if (!stmt.ok()) return stmt.status();
    bind(**stmt);
    Result<std::vector<EventRow>> rows = ReadEventRows(**stmt);
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
