// The investigation queries on a database made by hand: every query's plan
// uses an index rather than scanning an event table (`tree`, `show`,
// `timeline` with the indexes the recorder creates, schema version 14;
// `search` with store::SearchIndexSql() added, which it does not create),
// the parent inferred by ppid and time when none was recorded (pid reuse,
// other nodes), and the per-minute histogram.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "investigate/event_search.h"
#include "investigate/event_stream.h"
#include "investigate/investigate_format.h"
#include "investigate/investigation_db.h"
#include "investigate/process_report.h"
#include "investigate/process_tree.h"
#include "store/event_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "temp_dir.h"

namespace {

using namespace recorder;
using namespace recorder::investigate;
using ::testing::HasSubstr;

class InvestigateIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_.File("monitor.db");
    {
      // The store creates the schema, as the recorder does.
      auto created = store::EventStore::Open(path_);
      ASSERT_TRUE(created.ok()) << created.status().message();
    }
    auto writer = store::Database::Open(path_, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    writer_ = std::move(*writer);
  }

  void Sql(const std::string& sql) {
    Status status = writer_->Exec(sql);
    ASSERT_TRUE(status.ok()) << sql << ": " << status.message();
  }

  // A process row; `parent` NULL unless given. Strings: 1 "host-a",
  // 2 "host-b", 3 "/bin/sh".
  void Process(int64_t id, int64_t pid, std::optional<int64_t> ppid, std::optional<int64_t> parent,
               std::optional<int64_t> start, std::optional<int64_t> end, int64_t node = 1) {
    auto text = [](std::optional<int64_t> v) { return v ? std::to_string(*v) : "NULL"; };
    Sql(fmt::format(
        "INSERT INTO process_data(process_id, node_id, pid, ppid, parent_process_id, start_time, "
        "end_time, exe_id, flags) VALUES ({}, {}, {}, {}, {}, {}, {}, 3, 0)",
        id, node, pid, text(ppid), text(parent), text(start), text(end)));
  }

  std::unique_ptr<store::Database> Reader() {
    auto db = OpenInvestigationDb(path_);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }

  TempDir temp_{"recorder-investigate-index"};
  std::string path_;
  std::unique_ptr<store::Database> writer_;
};

std::vector<std::string> Plan(store::Database& db, const std::string& sql) {
  std::vector<std::string> details;
  auto stmt = db.Prepare("EXPLAIN QUERY PLAN " + sql);
  EXPECT_TRUE(stmt.ok()) << sql << ": " << stmt.status().message();
  if (!stmt.ok()) return details;
  for (;;) {
    Result<bool> row = (*stmt)->Step();
    if (!row.ok() || !*row) break;
    details.emplace_back((*stmt)->ColumnText(3));
  }
  return details;
}

int CollectSql(unsigned, void* context, void* statement, void*) {
  auto* seen = static_cast<std::set<std::string>*>(context);
  if (const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(statement))) seen->insert(sql);
  return 0;
}

// A plan step that reads a whole table: "SCAN t", or "SCAN t USING
// INDEX i" (the whole index) unless it is the time index read in order by
// a timeline statement with a LIMIT (a page without a range: it stops
// after the page; a search's hits may be anywhere, so not there). The event views' tables are `e`
// and `p` in a plan.
bool ScansABigTable(const std::string& detail, const std::string& sql) {
  if (detail.rfind("SCAN ", 0) != 0) return false;
  if (detail.find(" USING ") != std::string::npos &&
      (detail.find("_time") != std::string::npos || detail.find("_start") != std::string::npos ||
       detail.find("_end") != std::string::npos) &&
      sql.find(" LIMIT ") != std::string::npos && sql.find("temp.search_") == std::string::npos)
    return false;
  const std::string table = detail.substr(5, detail.find(' ', 5) - 5);
  static const std::set<std::string> kBig = {"e",
                                             "p",
                                             "process_data",
                                             "file_data",
                                             "network_data",
                                             "audit_events",
                                             "module_data",
                                             "security_data",
                                             "image_data",
                                             "dns_data",
                                             "failed_exec_data"};
  if (!kBig.count(table)) return false;
  // Text the tables hold themselves (image sha256, DNS names) is matched
  // by LIKE: docs/investigate.md says so.
  if ((table == "image_data" || table == "dns_data") && sql.find("LIKE") != std::string::npos)
    return false;
  return true;
}

TEST_F(InvestigateIndexTest, NoQueryScansAnEventTable) {
  Sql("INSERT INTO strings(id, value) VALUES (1, 'host-a'), (2, 'host-b'), (3, '/bin/sh'), "
      "(4, '/tmp/x'), (5, 'root')");
  Process(1, 10, 1, std::nullopt, 1000, 9000);
  Process(2, 11, 10, 1, 2000, 3000);
  Process(3, 12, 10, std::nullopt, 2500, 2600);
  Sql("INSERT INTO file_data(time, process_id, operation, path_id, success, user_id) "
      "VALUES (2100, 2, 1, 4, 1, 5)");
  std::set<std::string> seen;
  // The plan steps of the statements seen that scan an event table.
  auto scanning_steps = [&seen](store::Database& on) {
    std::vector<std::string> found;
    for (const std::string& sql : seen) {
      // Queries, and search's collection of its hits (INSERT ... SELECT
      // into a temporary table).
      if (sql.rfind("SELECT", 0) != 0 && sql.rfind("WITH", 0) != 0 &&
          sql.find("INTO temp.search_hits SELECT") == std::string::npos)
        continue;
      for (const std::string& detail : Plan(on, sql))
        if (ScansABigTable(detail, sql)) found.push_back(detail + "\nin: " + sql);
    }
    return found;
  };
  {
    // With the recorder's own indexes.
    auto db = Reader();
    ASSERT_NE(db, nullptr);
    sqlite3_trace_v2(db->handle(), SQLITE_TRACE_STMT, CollectSql, &seen);
    ASSERT_TRUE(LoadTree(*db, 1, 20).ok());
    ASSERT_TRUE(LoadProcessReport(*db, 3).ok());  // its ancestry is inferred
    ASSERT_TRUE(FindProcessAt(*db, 11, 2500).ok());
    TimelineQuery hour;
    hour.since = 0;
    hour.until = 3600000;
    ASSERT_TRUE(LoadTimeline(*db, hour).ok());
    TimelineQuery first_page;  // no range: the first page from the start
    ASSERT_TRUE(LoadTimeline(*db, first_page).ok());
    TimelineQuery next = hour;
    next.after = "2100.1";
    ASSERT_TRUE(LoadTimeline(*db, next).ok());
    ASSERT_TRUE(LoadHistogram(*db, hour).ok());
    sqlite3_trace_v2(db->handle(), 0, nullptr, nullptr);
    ASSERT_GT(seen.size(), 5u);
    EXPECT_THAT(scanning_steps(*db), ::testing::IsEmpty());
  }
  const std::set<std::string> investigation_statements = seen;
  // `search` with the indexes it would use.
  Sql(std::string(store::SearchIndexSql()));
  seen.clear();
  auto db = Reader();
  ASSERT_NE(db, nullptr);
  sqlite3_trace_v2(db->handle(), SQLITE_TRACE_STMT, CollectSql, &seen);
  auto hits = Search(*db, "tmp", 20);
  ASSERT_TRUE(hits.ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].kind, "file");
  ASSERT_TRUE(Search(*db, "root", 20).ok());
  ASSERT_TRUE(Search(*db, "443", 20).ok());
  // A string written after the indexes were made (as the recorder's
  // writer adds them) is outside the trigram index, which covers the
  // strings there were when it was brought up to date, and is found all
  // the same (the newer strings are read through); bringing the index up
  // to date again (what `search-index` does) takes it in.
  Sql("INSERT INTO strings(value) VALUES ('/var/log/Late-Marker.log')");
  Sql("INSERT INTO file_data(time, process_id, operation, path_id, success) VALUES (2200, 2, 1, "
      "(SELECT id FROM strings WHERE value = '/var/log/Late-Marker.log'), 1)");
  const std::string in_trigram =
      "SELECT count(*) FROM strings_trigram WHERE value LIKE '%late-marker%'";
  EXPECT_EQ(*writer_->QueryInt(in_trigram), 0);
  for (int round = 0; round < 2; ++round) {
    hits = Search(*db, "late-marker", 20);
    ASSERT_TRUE(hits.ok()) << hits.status().message();
    ASSERT_EQ(hits->size(), 1u) << "round " << round;
    ASSERT_EQ((*hits)[0].hits.size(), 1u);
    EXPECT_THAT((*hits)[0].hits[0].detail, HasSubstr("/var/log/Late-Marker.log"));
    if (round == 0) {
      ASSERT_TRUE(store::CreateSearchIndexes(writer_.get()).ok());
      EXPECT_EQ(*writer_->QueryInt(in_trigram), 1);
    }
  }
  sqlite3_trace_v2(db->handle(), 0, nullptr, nullptr);
  ASSERT_GT(seen.size(), 2u);
  EXPECT_THAT(scanning_steps(*db), ::testing::IsEmpty());
  bool by_trigram = false;
  for (const std::string& sql : seen) by_trigram |= sql.find("FROM strings_trigram") != sql.npos;
  EXPECT_TRUE(by_trigram) << "the strings were read through";
  Sql("INSERT INTO strings_trigram(strings_trigram) VALUES ('integrity-check')");

  // The check can fail: without the index of the events by process, a
  // process's activity reads file_data through; without the index of the
  // paths, so does a search.
  Sql("DROP INDEX file_data_process");
  Sql("DROP INDEX file_data_path");
  auto without = Reader();
  ASSERT_NE(without, nullptr);
  seen = investigation_statements;
  EXPECT_THAT(scanning_steps(*without), ::testing::Not(::testing::IsEmpty()));
  seen.clear();
  sqlite3_trace_v2(without->handle(), SQLITE_TRACE_STMT, CollectSql, &seen);
  hits = Search(*without, "tmp", 20);
  ASSERT_TRUE(hits.ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 1u) << "the same hit, read the long way";
  sqlite3_trace_v2(without->handle(), 0, nullptr, nullptr);
  EXPECT_THAT(scanning_steps(*without), ::testing::Contains(HasSubstr("SCAN file_data")));
}

// A database the store creates has the indexes of `tree`, `show` and
// `timeline` (schema version 14), not those of `search` (store/schema.cc
// says why); a version 13 database with rows gets them when the recorder
// next opens it, its rows untouched.
// A search's hits are the first ones stored, whichever way a table is
// read: a term in enough strings that the table is first read from its
// start for a stretch (event_search.cc, CollectHits) finds the hits
// inside that stretch and those after it, in order, the same as the
// brute-force answer and the same without the indexes.
TEST_F(InvestigateIndexTest, SearchHitsAreTheFirstStoredWhereverTheReadInOrderStops) {
  Process(1, 10, 1, std::nullopt, 0, std::nullopt);
  Sql("INSERT INTO strings(value) VALUES ('/x/filler')");
  std::string values;
  for (int i = 0; i < 100; ++i)
    values += fmt::format("{}('/data/common-{:03}')", values.empty() ? "" : ", ", i);
  Sql("INSERT INTO strings(value) VALUES " + values);
  // Rows 1-1000 of file_data: fillers, but for hits at 50-54 (inside the
  // stretch read in order: 100 strings x 2 path columns = 200 lookups,
  // read as 100 rows) and at 601-640 (after it), one of them a rename
  // whose new path is the hit.
  std::string rows;
  for (int id = 1; id <= 1000; ++id) {
    const bool hit = (id >= 50 && id <= 54) || (id >= 601 && id <= 640);
    const std::string common =
        fmt::format("(SELECT id FROM strings WHERE value = '/data/common-{:03}')", id % 100);
    const std::string filler = "(SELECT id FROM strings WHERE value = '/x/filler')";
    const bool renamed = id == 603;
    rows +=
        fmt::format("{}({}, {}, 1, {}, {}, {}, 1)", rows.empty() ? "" : ", ", id, id * 10,
                    renamed ? 4 : 1, renamed || !hit ? filler : common, renamed ? common : "NULL");
  }
  Sql("INSERT INTO file_data(id, time, process_id, operation, path_id, new_path_id, success) "
      "VALUES " +
      rows);
  auto expected = [&](int64_t limit) {
    std::vector<int64_t> times;
    for (int id = 1; id <= 1000 && static_cast<int64_t>(times.size()) < limit; ++id)
      if ((id >= 50 && id <= 54) || (id >= 601 && id <= 640)) times.push_back(id * 10);
    return times;
  };
  auto found = [&](store::Database& db, int64_t limit, bool* more) {
    std::vector<int64_t> times;
    auto groups = Search(db, "common-", limit);
    EXPECT_TRUE(groups.ok()) << groups.status().message();
    if (!groups.ok()) return times;
    for (const SearchGroup& group : *groups) {
      if (group.kind != "file") continue;
      for (const EventRow& row : group.hits) times.push_back(row.time);
      *more = group.more;
    }
    return times;
  };
  for (bool indexed : {true, false}) {
    const Status changed = indexed ? store::CreateSearchIndexes(writer_.get())
                                   : store::DropSearchIndexes(writer_.get());
    ASSERT_TRUE(changed.ok()) << changed.message();
    auto db = Reader();
    ASSERT_NE(db, nullptr);
    for (int64_t limit : {3, 5, 8, 20, 45, 50}) {
      bool more = false;
      EXPECT_EQ(found(*db, limit, &more), expected(limit))
          << "limit " << limit << (indexed ? " with" : " without") << " the search indexes";
      EXPECT_EQ(more, limit < 45) << "limit " << limit;
    }
  }
}

TEST_F(InvestigateIndexTest, TheStoreCreatesTheIndexesOfTreeShowAndTimelineNotOfSearch) {
  auto count = [](const std::string& path, const std::string& names) {
    auto db = OpenInvestigationDb(path);
    EXPECT_TRUE(db.ok()) << db.status().message();
    if (!db.ok()) return int64_t{-1};
    auto n = (*db)->QueryInt(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN (" + names + ")");
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : -1;
  };
  const std::vector<std::string> indexes = {
      "process_data_parent",  "process_data_pid",  "process_data_start",
      "process_data_end",     "file_data_process", "file_data_time",
      "network_data_process", "dns_data_time",     "registry_data_process"};
  std::string investigation;
  for (const std::string& name : indexes)
    investigation += (investigation.empty() ? "'" : ", '") + name + "'";
  const std::string search = "'process_data_exe', 'file_data_path', 'network_data_remote_port'";
  TempDir other("investigate-plain");
  const std::string plain = other.File("monitor.db");
  ASSERT_TRUE(store::EventStore::Open(plain).ok());
  EXPECT_EQ(count(plain, investigation), 9);
  EXPECT_EQ(count(plain, search), 0);

  // Back to version 13, with a row, then opened by the recorder.
  {
    auto db = store::Database::Open(plain, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.ok());
    for (const std::string& name : indexes) ASSERT_TRUE((*db)->Exec("DROP INDEX " + name).ok());
    Status status = (*db)->Exec(
        "INSERT INTO process_data(process_id, node_id, pid, start_time, exe_id, flags) "
        "VALUES (7, 1, 70, 1000, 1, 0); PRAGMA user_version = 13");
    ASSERT_TRUE(status.ok()) << status.message();
  }
  EXPECT_EQ(count(plain, investigation), 0);
  ASSERT_TRUE(store::EventStore::Open(plain).ok());
  EXPECT_EQ(count(plain, investigation), 9);
  auto db = OpenInvestigationDb(plain);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->QueryInt("PRAGMA user_version"), store::kSchemaVersion);
  EXPECT_EQ(*(*db)->QueryInt("SELECT pid FROM process_data WHERE process_id = 7"), 70);
}

// pid 100 runs twice (ids 1 and 2); its children's parent_process_id was
// not recorded. The parent of each is the instance of pid 100 alive at the
// child's start on the child's node; another node's pid 100 is not it.
TEST_F(InvestigateIndexTest, AMissingParentIsInferredByPpidAndTimeAcrossPidReuse) {
  Sql("INSERT INTO strings(id, value) VALUES (1, 'host-a'), (2, 'host-b'), (3, '/bin/sh')");
  Process(9, 1, std::nullopt, std::nullopt, 0, std::nullopt);  // init
  Process(1, 100, 1, 9, 1000, 2000);
  Process(2, 100, 1, 9, 3000, 5000);                         // the pid reused
  Process(3, 100, 1, std::nullopt, 3400, 6000, /*node=*/2);  // same pid, another host
  Process(4, 200, 100, std::nullopt, 3500, 3600);            // started under id 2
  Process(5, 201, 100, std::nullopt, 1500, 1600);            // started under id 1
  Process(6, 202, 100, std::nullopt, 2500, 2600);            // no pid 100 alive then
  auto db = Reader();
  ASSERT_NE(db, nullptr);
  auto ids = [&](int64_t id) {
    std::vector<std::pair<int64_t, bool>> chain;
    auto p = LoadProcess(*db, id);
    EXPECT_TRUE(p.ok());
    auto ancestry = LoadAncestry(*db, *p);
    EXPECT_TRUE(ancestry.ok());
    for (const ProcessInfo& a : *ancestry) chain.emplace_back(a.process_id, a.inferred);
    return chain;
  };
  using Chain = std::vector<std::pair<int64_t, bool>>;
  EXPECT_EQ(ids(4), (Chain{{2, true}, {9, false}}));
  EXPECT_EQ(ids(5), (Chain{{1, true}, {9, false}}));
  EXPECT_EQ(ids(6), Chain{});
  EXPECT_EQ(ids(1), (Chain{{9, false}}));
  auto tree = LoadTree(*db, 4, 5);
  ASSERT_TRUE(tree.ok());
  const std::string text = TreeText(*tree, TextStyle{true, false});
  EXPECT_THAT(text, HasSubstr("#2 pid 100 user ? /bin/sh: (no exec seen) "
                              "(1970-01-01T00:00:03.000Z .. 1970-01-01T00:00:05.000Z) "
                              "[parent inferred from ppid and start time]\n"));
  EXPECT_EQ(TreeJson(*tree)["ancestors"][1]["inferred"], true);
  EXPECT_EQ(TreeJson(*tree)["ancestors"][0]["inferred"], false);
}

TEST_F(InvestigateIndexTest, HistogramCountsEventsPerMinuteAcrossTables) {
  Sql("INSERT INTO strings(id, value) VALUES (1, 'host-a'), (3, '/bin/sh')");
  Process(1, 10, 1, std::nullopt, 60000 * 10 + 5, 60000 * 12 + 1);  // exec 10, exit 12
  for (int64_t t : {60000 * 10 + 7, 60000 * 10 + 59999, 60000 * 14})
    Sql(
        fmt::format("INSERT INTO file_data(time, process_id, operation, success) "
                    "VALUES ({}, 1, 1, 1)",
                    t));
  Sql("INSERT INTO network_data(time, process_id, direction, success, in_progress) "
      "VALUES (660000, 1, 1, 1, 0)");
  auto db = Reader();
  ASSERT_NE(db, nullptr);
  TimelineQuery all;
  auto minutes = LoadHistogram(*db, all);
  ASSERT_TRUE(minutes.ok()) << minutes.status().message();
  std::vector<std::pair<int64_t, int64_t>> got;
  for (const MinuteCount& m : *minutes) got.emplace_back(m.minute / 60000, m.count);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, int64_t>>{{10, 3}, {11, 1}, {12, 1}, {14, 1}}));
  TimelineQuery files;
  files.kinds = {EventKind::kFile};
  files.since = 60000 * 11;
  minutes = LoadHistogram(*db, files);
  ASSERT_TRUE(minutes.ok());
  ASSERT_EQ(minutes->size(), 1u);
  EXPECT_EQ((*minutes)[0].minute, 60000 * 14);
  minutes = LoadHistogram(*db, all);
  EXPECT_EQ(HistogramText(*minutes, TextStyle{true, false}),
            "1970-01-01T00:10Z         3  ##################################################\n"
            "1970-01-01T00:11Z         1  #################\n"
            "1970-01-01T00:12Z         1  #################\n"
            "1970-01-01T00:13Z         0  \n"
            "1970-01-01T00:14Z         1  #################\n");
  EXPECT_EQ(HistogramJson(*minutes)[0].dump(),
            R"({"minute":600000,"minute_utc":"1970-01-01T00:10:00.000Z","count":3})");
  EXPECT_EQ(HistogramText({{0, 5}, {60000 * 100, 5}}, TextStyle{true, false}),
            "1970-01-01T00:00Z         5  " + std::string(50, '#') +
                "\n... 99 minutes without events\n1970-01-01T01:40Z         5  " +
                std::string(50, '#') + "\n");
  EXPECT_EQ(HistogramText({}, TextStyle{true, true}), "no events\n");
}

}  // namespace
