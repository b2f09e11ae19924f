// Rows for one append-only table, sent to SQLite as multi-row
// `INSERT ... VALUES (...), (...), ...` statements.
//
// Why: a one-row INSERT pays, per row, for the statement's start and halt,
// its reset, and a descent of the table's b-tree from the root. Within one
// multi-row statement SQLite keeps its cursor on the table's last page
// between rows, so appending rows in key order skips the descents: much
// of SQLite's work per appended row (BM_KeyAppend in bench/store_bench.cc;
// the figures are in BENCHMARKS.md).
//
// The cost: rows reach the table only at the next full statement or
// Flush(). The owner flushes before anything on the same connection reads
// the table, and before COMMIT; after a ROLLBACK it calls Discard().
//
// Values are integers or NULL: every column the recorder batches is an id,
// a time, a count or an enum.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::store {

// An integer column value, or NULL when empty (Statement::BindOptionalInt).
using SqlInt = std::optional<int64_t>;
inline constexpr SqlInt Int(int64_t value) { return value; }
inline constexpr SqlInt NullInt() { return std::nullopt; }

class BatchedInsert {
 public:
  // Rows per multi-row statement: past a few dozen the gain is flat
  // (BM_KeyAppend at 50 and 200 rows, BENCHMARKS.md). Fewer when the
  // connection's limit on parameters (999 before SQLite 3.32) does not
  // allow that many.
  static constexpr int kRowsPerStatement = 64;

  // `table_and_columns` is "table(col1, col2, ...)"; each row has one
  // value per column named.
  static Result<std::unique_ptr<BatchedInsert>> Create(Database* db,
                                                       std::string_view table_and_columns);

  // Queues one row (exactly `columns` values); writes a full statement's
  // worth when it completes one. An error is SQLite's, from that write.
  Status Add(std::initializer_list<SqlInt> row) { return Add(std::span(row.begin(), row.size())); }
  Status Add(std::span<const SqlInt> row);
  // Writes every queued row.
  Status Flush();
  // Forgets queued rows (after a ROLLBACK: they belong to no transaction).
  void Discard() { values_.clear(); }

  size_t pending_rows() const { return values_.size() / columns_; }
  size_t rows_per_statement() const { return rows_per_statement_; }
  size_t columns() const { return columns_; }

 private:
  BatchedInsert(int columns, int rows_per_statement, std::unique_ptr<Statement> one,
                std::unique_ptr<Statement> many);
  // Binds rows [first, first + count) of values_ to `stmt` and runs it.
  Status Run(Statement* stmt, size_t first, size_t count);

  const size_t columns_;
  const size_t rows_per_statement_;
  std::unique_ptr<Statement> one_row_;
  std::unique_ptr<Statement> full_;  // rows_per_statement_ rows
  std::vector<SqlInt> values_;       // queued rows, row-major
};

}  // namespace recorder::store
