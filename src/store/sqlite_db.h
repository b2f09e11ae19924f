// Thin RAII wrappers over the SQLite C API: a connection and a prepared
// statement. No ORM: callers write SQL and bind by position. Errors come
// back as Status values carrying SQLite's own message, so a caller can
// prefix the file name and say what it was doing, and a code from
// SQLite's result code (StatusCodeFromSqlite), so a caller can tell a
// locked database from a damaged one without reading the message.
//
// Thread safety: none. One Database (and its statements) belongs to one
// thread, as SQLite's default "multi-thread" mode requires.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder::store {

class Statement;

// kBusy for BUSY/LOCKED, kCorrupt for CORRUPT/NOTADB, kNoSpace for FULL (and
// IOERR with ENOSPC/EDQUOT behind it), kIo for other IOERR,
// kPermission for PERM/AUTH/READONLY, kExists for a UNIQUE or PRIMARY KEY
// violation, kInvalid for bad SQL and other constraints; CANTOPEN by the
// errno behind it (`system_errno`, sqlite3_system_errno): kNotFound for a
// missing file or directory, kPermission, else kIo. `rc` may be an
// extended result code.
StatusCode StatusCodeFromSqlite(int rc, int system_errno = 0);

class Database {
 public:
  // `flags` are sqlite3_open_v2 flags (SQLITE_OPEN_READWRITE |
  // SQLITE_OPEN_CREATE, or SQLITE_OPEN_READONLY). The error names `path`.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, int flags);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows we need.
  Status Exec(std::string_view sql);
  // Prepares one statement; the Database must outlive it.
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql);
  // First column of the first row as an integer (PRAGMA user_version,
  // SELECT count(*) ...); an error when there is no row.
  Result<int64_t> QueryInt(std::string_view sql);

  // The message of the last failed call on this connection.
  std::string LastError() const;
  // That message with the code for `rc`, the failed call's result code.
  Status LastStatus(int rc) const;
  int64_t LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  // SQLITE_FCNTL_CHUNK_SIZE on this connection's handle of the main file:
  // the file then grows (and is truncated) in whole chunks of `bytes`,
  // fewer allocations and less fragmentation. 0 is SQLite's page-by-page
  // growth. Per connection: every connection that writes pages (the
  // store's and the checkpointer's) sets it.
  Status SetChunkSize(int64_t bytes);
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
};

// A prepared statement meant to be reused: Bind*, Step until done, Reset.
// Text binds are SQLITE_TRANSIENT copies unless BindStatic is used, so
// the caller's buffer may change right after the call.
class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Positions count from 1, as in SQLite.
  void BindInt(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void BindNull(int index) { sqlite3_bind_null(stmt_, index); }
  void BindText(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  // NULL when `value` is nullopt.
  void BindOptionalInt(int index, std::optional<int64_t> value) {
    if (value)
      BindInt(index, *value);
    else
      BindNull(index);
  }

  // One step: true when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Step for statements that return no rows (INSERT/UPDATE); resets the
  // statement afterwards so it can be bound again.
  Status Run();
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  int ColumnType(int col) const { return sqlite3_column_type(stmt_, col); }
  const char* ColumnName(int col) const { return sqlite3_column_name(stmt_, col); }
  int64_t ColumnInt(int col) const { return sqlite3_column_int64(stmt_, col); }
  double ColumnDouble(int col) const { return sqlite3_column_double(stmt_, col); }
  // Valid until the next Step/Reset.
  std::string_view ColumnText(int col) const {
    const unsigned char* text = sqlite3_column_text(stmt_, col);
    int bytes = sqlite3_column_bytes(stmt_, col);
    return text ? std::string_view(reinterpret_cast<const char*>(text), bytes) : std::string_view();
  }
  std::string_view ColumnBlob(int col) const {
    const void* blob = sqlite3_column_blob(stmt_, col);
    int bytes = sqlite3_column_bytes(stmt_, col);
    return blob ? std::string_view(static_cast<const char*>(blob), bytes) : std::string_view();
  }
  bool ReadOnly() const { return sqlite3_stmt_readonly(stmt_) != 0; }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  friend class Database;
  Statement(sqlite3_stmt* stmt, Database* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_;
  Database* db_;
};

// BEGIN on construction (when asked), ROLLBACK on destruction unless
// Commit() succeeded: an error path can simply return.
class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // BEGIN IMMEDIATE: takes the write lock now, so a concurrent writer
  // waits in busy_timeout here instead of failing mid-transaction.
  Status Begin();
  Status Commit();
  bool active() const { return active_; }

 private:
  Database* db_;
  bool active_ = false;
};

}  // namespace recorder::store
