// Schema 3: every integer code a view decodes reads as its C++ table's
// text (normalize/event_codes.h), a version-2 database migrates and reads
// the same through the views, and the views are kept current.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "normalize/event_codes.h"
#include "store/event_store.h"
#include "store/schema.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

using Row = std::map<std::string, std::string>;  // column -> text ("NULL" for NULL)

// Rows of `sql` on an open connection; `bind` fills ?1.
std::vector<Row> Query(sqlite3* db, const std::string& sql,
                       std::optional<int64_t> bind = std::nullopt) {
  sqlite3_stmt* stmt = nullptr;
  std::vector<Row> rows;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in " << sql;
  if (bind) sqlite3_bind_int64(stmt, 1, *bind);
  int rc = SQLITE_DONE;
  while (stmt != nullptr && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt, c);
      row[sqlite3_column_name(stmt, c)] = text ? reinterpret_cast<const char*>(text) : "NULL";
    }
    rows.push_back(std::move(row));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db) << " in " << sql;
  sqlite3_finalize(stmt);
  return rows;
}

std::string Scalar(sqlite3* db, const std::string& sql,
                   std::optional<int64_t> bind = std::nullopt) {
  std::vector<Row> rows = Query(db, sql, bind);
  if (rows.size() != 1 || rows[0].size() != 1) return "<not one value>";
  return rows[0].begin()->second;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
}

// One connection, as a user's would be.
class Connection {
 public:
  explicit Connection(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
  }
  ~Connection() { sqlite3_close(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

std::vector<Row> Query(const std::string& path, const std::string& sql) {
  return Query(Connection(path).get(), sql);
}
std::string Scalar(const std::string& path, const std::string& sql) {
  return Scalar(Connection(path).get(), sql);
}
void Exec(const std::string& path, const std::string& sql) { Exec(Connection(path).get(), sql); }

template <typename E, size_t N>
std::vector<std::pair<int64_t, std::string>> Pairs(const EnumCode<E> (&table)[N]) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const EnumCode<E>& code : table)
    out.emplace_back(static_cast<int64_t>(code.value), std::string(code.text));
  return out;
}

// A view column that decodes a code, the table row that feeds it (?1 is
// the code), and the C++ table it must read as.
struct CodeColumn {
  std::string view;
  std::string column;
  std::string table;
  std::string insert;
  std::vector<std::pair<int64_t, std::string>> codes;
};

std::vector<CodeColumn> CodeColumns() {
  const std::string file = "INSERT INTO file_data(time, process_id, success, operation) ";
  const std::string net =
      "INSERT INTO network_data(time, process_id, success, in_progress, direction, protocol, "
      "family) ";
  const std::string sec =
      "INSERT INTO security_data(time, process_id, success, kind, result, record_type) ";
  return {
      {"file_events", "operation", "file_data", file + "VALUES (1, 1, 1, ?1)",
       Pairs(kFileOperationCodes)},
      {"network_events", "direction", "network_data", net + "VALUES (1, 1, 1, 0, ?1, 1, 1)",
       Pairs(kNetworkDirectionCodes)},
      {"network_events", "protocol", "network_data", net + "VALUES (1, 1, 1, 0, 0, ?1, 1)",
       Pairs(kNetworkProtocolCodes)},
      {"network_events", "family", "network_data", net + "VALUES (1, 1, 1, 0, 0, 1, ?1)",
       Pairs(kAddressFamilyCodes)},
      {"security_events", "kind", "security_data", sec + "VALUES (1, 1, 1, ?1, 1, 1100)",
       Pairs(kSecurityKindCodes)},
      {"security_events", "result", "security_data", sec + "VALUES (1, 1, 1, 0, ?1, 1100)",
       Pairs(kSecurityResultCodes)},
      {"security_events", "record_type", "security_data", sec + "VALUES (1, 1, 1, 0, 1, ?1)",
       Pairs(kSecurityRecordTypeCodes)},
      {"module_events", "operation", "module_data",
       "INSERT INTO module_data(time, process_id, success, operation) VALUES (1, 1, 1, ?1)",
       Pairs(kModuleOperationCodes)},
      {"failed_execs", "error", "failed_exec_data",
       "INSERT INTO failed_exec_data(time, process_id, errno) VALUES (1, 1, ?1)",
       Pairs(kExecErrnoCodes)},
      {"dns_events", "transport", "dns_data",
       "INSERT INTO dns_data(time, process_id, response_seen, transport, family) "
       "VALUES (1, 1, 0, ?1, 1)",
       Pairs(kNetworkProtocolCodes)},
      {"dns_events", "family", "dns_data",
       "INSERT INTO dns_data(time, process_id, response_seen, transport, family) "
       "VALUES (1, 1, 0, 1, ?1)",
       Pairs(kAddressFamilyCodes)},
      {"dns_events", "attribution", "dns_data",
       "INSERT INTO dns_data(time, process_id, response_seen, attribution) VALUES (1, 1, 0, ?1)",
       Pairs(kDnsAttributionCodes)},
  };
}

class StoreCodesTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.File("monitor.db");
};

TEST_F(StoreCodesTest, EveryCodeReadsThroughItsViewAsItsTablesText) {
  {
    auto store = EventStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().message();
  }
  Connection db(path_);
  Exec(db.get(), "PRAGMA synchronous=OFF");
  Exec(db.get(), "INSERT INTO process_data(process_id, node_id, pid, flags) VALUES (1, 0, 42, 0)");
  std::map<std::string, int> columns_per_view;
  for (const CodeColumn& c : CodeColumns()) {
    SCOPED_TRACE(c.view + "." + c.column);
    ++columns_per_view[c.view];
    ASSERT_FALSE(c.codes.empty());
    int64_t unknown = 0;
    for (const auto& [value, text] : c.codes) {
      Exec(db.get(), "DELETE FROM " + c.table);
      Query(db.get(), c.insert, value);
      EXPECT_EQ(Scalar(db.get(), "SELECT " + c.column + " FROM " + c.view), text) << value;
      unknown = std::max(unknown, value + 1);
    }
    // A code with no row in the table (a kUnknown, or a newer binary's) is NULL.
    Exec(db.get(), "DELETE FROM " + c.table);
    Query(db.get(), c.insert, unknown);
    EXPECT_EQ(Scalar(db.get(), "SELECT " + c.column + " FROM " + c.view), "NULL");
  }
  // Every CASE of every view is one of the columns above: none is written
  // by hand elsewhere.
  for (const Row& view : Query(path_, "SELECT name, sql FROM sqlite_schema WHERE type = 'view'")) {
    const std::string& sql = view.at("sql");
    int cases = 0;
    for (size_t at = sql.find("CASE "); at != std::string::npos; at = sql.find("CASE ", at + 1))
      ++cases;
    EXPECT_EQ(cases, columns_per_view[view.at("name")]) << view.at("name");
  }
}

TEST_F(StoreCodesTest, RecordTypesNameEveryUserRecordTheNormalizerMaps) {
  // The audit message type numbers, as libaudit names them.
  EXPECT_EQ(Name(SecurityRecordType::kUserAuth), "USER_AUTH");
  EXPECT_EQ(static_cast<int>(SecurityRecordType::kUserAuth), 1100);
  EXPECT_EQ(Name(SecurityRecordType::kSyscall), "SYSCALL");
  EXPECT_EQ(static_cast<int>(SecurityRecordType::kSyscall), 1300);
  EXPECT_EQ(Name(SecurityRecordType::kAnomLoginService), "ANOM_LOGIN_SERVICE");
  EXPECT_EQ(static_cast<int>(SecurityRecordType::kAnomLoginService), 2118);
  EXPECT_EQ(ErrnoName(2), "ENOENT");
  EXPECT_EQ(ErrnoName(13), "EACCES");
  EXPECT_EQ(ErrnoName(9999), "");
  EXPECT_EQ(CodeValue(kNetworkProtocolCodes, "udp"), NetworkProtocol::kUdp);
  EXPECT_EQ(Name(NetworkProtocol::kUnknown), "");
}

// tests/data/monitor-v2.sql: `sqlite3 .dump` of a database the schema-2
// recorder wrote (see tests/data/README.md).
std::string Fixture() {
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/monitor-v2.sql");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every row of `view`, restricted to `columns`, sorted: a view's rows
// have no order of their own.
std::vector<Row> Rows(const std::string& path, const std::string& view,
                      const std::vector<std::string>& columns) {
  std::vector<Row> rows;
  for (const Row& row : Query(path, "SELECT * FROM " + view)) {
    Row kept;
    for (const std::string& c : columns) kept[c] = row.count(c) ? row.at(c) : "<missing>";
    rows.push_back(std::move(kept));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST_F(StoreCodesTest, AVersion2DatabaseMigratesAndReadsTheSameThroughTheViews) {
  const std::string fixture = Fixture();
  ASSERT_FALSE(fixture.empty());
  Exec(path_, fixture);
  ASSERT_EQ(Scalar(path_, "PRAGMA user_version"), "2");

  const std::vector<std::string> views = {"processes",       "file_events",   "network_events",
                                          "security_events", "module_events", "image_events",
                                          "dns_events",      "runs"};
  std::map<std::string, std::vector<std::string>> columns;
  std::map<std::string, std::vector<Row>> before;
  for (const std::string& view : views) {
    for (const Row& c : Query(path_, "SELECT name FROM pragma_table_info('" + view + "')"))
      columns[view].push_back(c.at("name"));
    before[view] = Rows(path_, view, columns[view]);
  }
  for (const char* view : {"processes", "network_events", "security_events", "runs"})
    EXPECT_FALSE(before[view].empty()) << view;
  // The fixture holds what the conversion must carry: each protocol and
  // result, unknown protocols, several record types.
  EXPECT_EQ(Scalar(path_,
                   "SELECT group_concat(DISTINCT ifnull(protocol, '-')) FROM "
                   "(SELECT protocol FROM network_events ORDER BY 1)"),
            "-,tcp,udp");
  EXPECT_EQ(Scalar(path_,
                   "SELECT count(DISTINCT record_type) || '/' || count(DISTINCT result) "
                   "FROM security_events"),
            "7/2");

  {
    auto store = EventStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status().message();
  }
  EXPECT_EQ(Scalar(path_, "PRAGMA user_version"), std::to_string(kSchemaVersion));
  for (const std::string& view : views) {
    SCOPED_TRACE(view);
    EXPECT_EQ(Rows(path_, view, columns[view]), before[view]);
  }
  // The codes are stored as integers, and the string ids are gone.
  EXPECT_EQ(Scalar(path_,
                   "SELECT group_concat(DISTINCT typeof(protocol)) FROM network_data "
                   "WHERE protocol IS NOT NULL"),
            "integer");
  EXPECT_EQ(Scalar(path_,
                   "SELECT count(*) FROM pragma_table_info('security_data') WHERE name "
                   "IN ('record_type_id', 'result_id')"),
            "0");
  EXPECT_EQ(Scalar(path_,
                   "SELECT count(*) FROM pragma_table_info('network_data') WHERE name "
                   "IN ('protocol_id', 'family_id')"),
            "0");
  // What schema 3 adds reads as empty.
  EXPECT_EQ(Scalar(path_, "SELECT count(*) FROM failed_execs"), "0");
  EXPECT_EQ(Scalar(path_, "SELECT max(path_search_attempts) FROM processes"), "0");
  EXPECT_EQ(Scalar(path_, "SELECT failed_execs FROM runs"), "0");
  EXPECT_EQ(Scalar(path_, "PRAGMA integrity_check"), "ok");

  // And the store writes to it as to a new one.
  auto store = EventStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status().message();
  TypedEvent udp;
  udp.header.time_ms = 1800000000000;
  udp.header.serial = 1;
  udp.subject.pid = 77;
  udp.subject.exe = "/usr/bin/dig";
  NetworkEvent& n = udp.body.emplace<NetworkEvent>();
  n.protocol = NetworkProtocol::kUdp;
  n.family = AddressFamily::kInet6;
  n.remote_address = "::1";
  n.remote_port = 53;
  EventBatch batch;
  batch.push_back(udp);
  ASSERT_TRUE((*store)->Add(&batch, 0).ok());
  ASSERT_TRUE((*store)->Flush().ok());
  EXPECT_EQ(Scalar(path_, "SELECT protocol || ' ' || family FROM network_events WHERE pid = 77"),
            "udp ipv6");
}

TEST_F(StoreCodesTest, ViewsAreRecreatedOnlyWhenTheyDifferFromTheCurrentOnes) {
  { ASSERT_TRUE(EventStore::Open(path_).ok()); }
  const std::string schema = Scalar(path_, "PRAGMA schema_version");
  { ASSERT_TRUE(EventStore::Open(path_).ok()); }
  EXPECT_EQ(Scalar(path_, "PRAGMA schema_version"), schema);  // nothing rewritten

  // A view as another binary left it (an enumerator it did not know).
  Exec(path_, "DROP VIEW failed_execs; CREATE VIEW failed_execs AS SELECT 1 AS error");
  { ASSERT_TRUE(EventStore::Open(path_).ok()); }
  EXPECT_THAT(Scalar(path_, "SELECT sql FROM sqlite_schema WHERE name = 'failed_execs'"),
              ::testing::HasSubstr("WHEN 13 THEN 'EACCES'"));
  EXPECT_EQ(Scalar(path_,
                   "SELECT count(*) FROM pragma_table_info('failed_execs') WHERE name IN "
                   "('time', 'time_utc', 'process_id', 'pid', 'exe', 'user', 'path', "
                   "'error', 'errno', 'cwd', 'uid')"),
            "11");
}

}  // namespace
}  // namespace recorder::store
