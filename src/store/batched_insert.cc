#include "store/batched_insert.h"

#include <algorithm>
#include <cassert>

namespace recorder::store {

namespace {

std::string InsertSql(std::string_view table_and_columns, int columns, int rows) {
  std::string row = "(";
  for (int c = 0; c < columns; ++c) row += c == 0 ? "?" : ", ?";
  row += ")";
  std::string sql = fmt::format("INSERT INTO {} VALUES ", table_and_columns);
  for (int r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += row;
  }
  return sql;
}

}  // namespace

Result<std::unique_ptr<BatchedInsert>> BatchedInsert::Create(Database* db,
                                                             std::string_view table_and_columns) {
  // One column per name: the commas between the parentheses, plus one.
  const size_t open = table_and_columns.find('(');
  const size_t close = table_and_columns.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close <= open + 1 ||
      table_and_columns.find_first_not_of(' ', open + 1) == close)
    return Status::Errorf("{}: no columns to insert", table_and_columns);
  const int columns = 1 + static_cast<int>(std::count(
                              table_and_columns.begin() + static_cast<std::ptrdiff_t>(open),
                              table_and_columns.begin() + static_cast<std::ptrdiff_t>(close), ','));
  const int max_params = sqlite3_limit(db->handle(), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
  const int rows = std::clamp(max_params / columns, 1, kRowsPerStatement);
  Result<std::unique_ptr<Statement>> one = db->Prepare(InsertSql(table_and_columns, columns, 1));
  if (!one.ok()) return one.status();
  Result<std::unique_ptr<Statement>> many =
      db->Prepare(InsertSql(table_and_columns, columns, rows));
  if (!many.ok()) return many.status();
  return std::unique_ptr<BatchedInsert>(
      new BatchedInsert(columns, rows, std::move(one).value(), std::move(many).value()));
}

BatchedInsert::BatchedInsert(int columns, int rows_per_statement, std::unique_ptr<Statement> one,
                             std::unique_ptr<Statement> many)
    : columns_(static_cast<size_t>(columns)),
      rows_per_statement_(static_cast<size_t>(rows_per_statement)),
      one_row_(std::move(one)),
      full_(std::move(many)) {
  values_.reserve(columns_ * rows_per_statement_);
}

Status BatchedInsert::Add(std::span<const SqlInt> row) {
  assert(row.size() == columns_);
  values_.insert(values_.end(), row.begin(), row.end());
  if (values_.size() < columns_ * rows_per_statement_) return Status::Ok();
  Status status = Run(full_.get(), 0, rows_per_statement_);
  values_.clear();
  return status;
}

Status BatchedInsert::Flush() {
  const size_t rows = pending_rows();
  Status status;
  // Fewer than a full statement's rows: one statement each. In bulk work
  // (replay) commits come every 20,000 rows and this is the remainder; a
  // live recorder commits every BatchWriteDelayMS with tens of rows, so
  // most of its rows take this path, at the one-row cost they had before
  // batching. Flushes before a read of the table (batched_insert.h) end
  // here too.
  for (size_t r = 0; r < rows && status.ok(); ++r) status = Run(one_row_.get(), r, 1);
  values_.clear();
  return status;
}

Status BatchedInsert::Run(Statement* stmt, size_t first, size_t count) {
  const SqlInt* value = values_.data() + first * columns_;
  const int params = static_cast<int>(count * columns_);
  for (int i = 1; i <= params; ++i, ++value) stmt->BindOptionalInt(i, *value);
  return stmt->Run();
}

}  // namespace recorder::store
