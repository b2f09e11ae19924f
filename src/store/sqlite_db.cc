#include "store/sqlite_db.h"

#include <algorithm>
#include <cerrno>

#include "util/file_util.h"

namespace recorder::store {

StatusCode StatusCodeFromSqlite(int rc, int system_errno) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kBusy;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kCorrupt;
    case SQLITE_FULL:
      return StatusCode::kNoSpace;
    case SQLITE_IOERR:
      // A write or an fallocate that found the file system full.
      if (system_errno == ENOSPC || system_errno == EDQUOT) return StatusCode::kNoSpace;
      return StatusCode::kIo;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_READONLY:
      return StatusCode::kPermission;
    case SQLITE_CANTOPEN:
      // The file or its directory is missing, or not ours to open.
      if (system_errno == ENOENT || system_errno == ENOTDIR) return StatusCode::kNotFound;
      if (system_errno == EACCES || system_errno == EPERM || system_errno == EROFS)
        return StatusCode::kPermission;
      return StatusCode::kIo;
    case SQLITE_CONSTRAINT:
      return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? StatusCode::kExists
                 : StatusCode::kInvalid;
    case SQLITE_ERROR:  // bad SQL, no such table or column
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return StatusCode::kInvalid;
    default:
      return StatusCode::kUnknown;
  }
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, int flags) {
  // A database this process may create or write holds recorded data: it
  // and its -wal/-shm are private (SQLite gives those the database file's
  // own mode). Read-only opens (recorder query) leave the files alone.
  if ((flags & SQLITE_OPEN_READWRITE) != 0 && path != ":memory:" && !path.empty()) {
    Status status =
        (flags & SQLITE_OPEN_CREATE) != 0 ? PreparePrivateFile(path) : TightenIfPresent(path);
    if (status.ok()) status = TightenIfPresent(path + "-wal");
    if (status.ok()) status = TightenIfPresent(path + "-shm");
    if (!status.ok()) return status;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    const int system_errno = db ? sqlite3_system_errno(db) : 0;
    sqlite3_close(db);
    return Status::Errorf(StatusCodeFromSqlite(rc, system_errno), "{}: cannot open database: {}",
                          path, message);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db, path));
}

Database::~Database() { sqlite3_close_v2(db_); }

Status Database::SetChunkSize(int64_t bytes) {
  // SQLite takes an int; a chunk of 2 GiB or more is capped below it.
  int chunk = static_cast<int>(std::clamp<int64_t>(bytes, 0, int64_t{1} << 30));
  int rc = sqlite3_file_control(db_, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
  if (rc != SQLITE_OK)
    return Status::Errorf(StatusCodeFromSqlite(rc), "{}: cannot set the chunk size: {}", path_,
                          sqlite3_errstr(rc));
  return Status::Ok();
}

std::string Database::LastError() const { return sqlite3_errmsg(db_); }

Status Database::LastStatus(int rc) const {
  return Status::Error(StatusCodeFromSqlite(rc, sqlite3_system_errno(db_)), LastError());
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  if (int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error); rc != SQLITE_OK) {
    std::string message = error ? error : LastError();
    sqlite3_free(error);
    return Status::Error(StatusCodeFromSqlite(rc, sqlite3_system_errno(db_)), std::move(message));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Statement>> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return LastStatus(rc);
  if (stmt == nullptr) return Status::Error(StatusCode::kInvalid, "empty SQL statement");
  return std::unique_ptr<Statement>(new Statement(stmt, this));
}

Result<int64_t> Database::QueryInt(std::string_view sql) {
  Result<std::unique_ptr<Statement>> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Errorf(StatusCode::kNotFound, "no row from: {}", sql);
  return (*stmt)->ColumnInt(0);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->LastStatus(rc);
}

Status Statement::Run() {
  int rc = sqlite3_step(stmt_);
  Status status = rc == SQLITE_DONE || rc == SQLITE_ROW ? Status::Ok() : db_->LastStatus(rc);
  Reset();
  return status;
}

Transaction::~Transaction() {
  if (active_) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Begin() {
  Status status = db_->Exec("BEGIN IMMEDIATE");
  active_ = status.ok();
  return status;
}

Status Transaction::Commit() {
  Status status = db_->Exec("COMMIT");
  if (status.ok()) active_ = false;
  return status;
}

}  // namespace recorder::store
