// Test helpers: reading a monitor.db through its own read-only connection,
// as a user would (waiting up to 5 s for a writer's lock). A database that
// does not open, a statement that does not prepare or a step that fails is
// a test failure. The one home for these readers in the unit tests.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace recorder {

// The rows `sql` returns, each its columns' text in order ("NULL" for
// NULL); `names`, when given, gets the column names. A step that fails
// ends the rows, and is a test failure unless `step_errors_fail` is false
// (for a test that reads a file it damaged on purpose).
inline std::vector<std::vector<std::string>> QueryValues(const std::string& db_path,
                                                         const std::string& sql,
                                                         std::vector<std::string>* names = nullptr,
                                                         bool step_errors_fail = true) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in " << sql;
  if (stmt != nullptr) {
    if (names != nullptr) {
      names->clear();
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        names->push_back(sqlite3_column_name(stmt, c));
      }
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        row.push_back(text ? reinterpret_cast<const char*>(text) : "NULL");
      }
      rows.push_back(std::move(row));
    }
    if (step_errors_fail) {
      EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db) << " in " << sql;
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

using Row = std::map<std::string, std::string>;  // column -> text ("NULL" for NULL)

// The rows `sql` returns, each by column name.
inline std::vector<Row> Query(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> names;
  std::vector<Row> rows;
  for (const std::vector<std::string>& values : QueryValues(db_path, sql, &names)) {
    Row row;
    for (size_t c = 0; c < values.size(); ++c) row[names[c]] = values[c];
    rows.push_back(std::move(row));
  }
  return rows;
}

// Expects each (column, text) of `expected` in `row`; a failure names the
// column.
inline void ExpectColumns(const Row& row,
                          const std::vector<std::pair<std::string, std::string>>& expected) {
  for (const auto& [column, text] : expected) {
    auto found = row.find(column);
    if (found == row.end()) {
      ADD_FAILURE() << "no column " << column;
      continue;
    }
    EXPECT_EQ(found->second, text) << "column " << column;
  }
}

// The one value `sql` returns, or "<not one value>".
inline std::string Scalar(const std::string& db_path, const std::string& sql) {
  std::vector<std::vector<std::string>> rows = QueryValues(db_path, sql);
  if (rows.size() != 1 || rows[0].size() != 1) return "<not one value>";
  return rows[0][0];
}

// The one value `sql` returns, as an integer; -1, and a test failure,
// when it is not one integer.
inline int64_t ScalarInt(const std::string& db_path, const std::string& sql) {
  const std::string value = Scalar(db_path, sql);
  int64_t n = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (error != std::errc() || end != value.data() + value.size()) {
    ADD_FAILURE() << sql << " gave " << value << ", not one integer";
    return -1;
  }
  return n;
}

}  // namespace recorder
