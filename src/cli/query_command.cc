// `recorder query`: read-only SQL over monitor.db, printed as an aligned
// table, JSON or CSV. The connection is opened read-only and an
// authorizer refuses anything that writes, attaches or loads code, so a
// query can never change the recorder's data.
#include <sqlite3.h>
#include <strings.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "store/schema.h"
#include "store/sqlite_db.h"

namespace recorder::cli {
namespace {

constexpr int kExitSql = 1;
constexpr int kExitDatabase = 2;

enum class Format { kTable, kJson, kCsv };

struct QueryOptions {
  std::string db;          // empty: config::DbPathFor's rule
  std::string config_dir;  // empty: the current directory
  std::string sql;
  bool json = false;
  bool csv = false;
};

// Set when the authorizer refused something, so the error names the
// statement rather than SQLite's "not authorized".
struct Guard {
  bool refused = false;
};

bool IEquals(const char* a, const char* b) { return a && b && strcasecmp(a, b) == 0; }

// Pragmas that only read. Any other pragma, or one of these with a
// value to set (user_version=5), is refused.
bool ReadOnlyPragma(const char* name, const char* arg) {
  static const char* const kNoArg[] = {"user_version",   "schema_version", "page_count",
                                       "page_size",      "freelist_count", "journal_mode",
                                       "auto_vacuum",    "encoding",       "database_list",
                                       "application_id", "data_version"};
  static const char* const kWithArg[] = {"table_info",      "table_xinfo", "index_list",
                                         "index_info",      "index_xinfo", "foreign_key_list",
                                         "integrity_check", "quick_check", "table_list"};
  for (const char* p : kWithArg)
    if (IEquals(name, p)) return true;
  if (arg != nullptr) return false;
  for (const char* p : kNoArg)
    if (IEquals(name, p)) return true;
  return false;
}

// The statement as the user wrote it, for messages: from `sql` to its
// end (`tail`, or the next ';' when SQLite could not say), whitespace
// folded, cut at 80 characters.
std::string StatementText(const char* sql, const char* tail) {
  while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r') ++sql;
  std::string_view text = tail != nullptr && tail > sql ? std::string_view(sql, tail - sql) : sql;
  if (tail == nullptr) text = text.substr(0, text.find(';'));
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  if (out.size() > 80) out = out.substr(0, 77) + "...";
  return out;
}

// Statements that would change the database, by their first keyword.
// SQLite rejects some of them before the authorizer is asked (DELETE
// FROM a view: "cannot modify runs because it is a view"); the user
// should read the same refusal whatever SQLite's reason.
bool WritesByKeyword(std::string_view statement) {
  static constexpr std::string_view kWriting[] = {
      "INSERT", "UPDATE", "DELETE",   "REPLACE",   "UPSERT",  "CREATE",  "DROP",
      "ALTER",  "ATTACH", "DETACH",   "VACUUM",    "REINDEX", "ANALYZE", "BEGIN",
      "COMMIT", "END",    "ROLLBACK", "SAVEPOINT", "RELEASE"};
  const size_t end = statement.find_first_of(" \t\r\n(;");
  const std::string_view first = statement.substr(0, end);
  for (std::string_view keyword : kWriting)
    if (first.size() == keyword.size() &&
        strncasecmp(first.data(), keyword.data(), first.size()) == 0)
      return true;
  return false;
}

void PrintRefusal(const std::string& statement) {
  std::fprintf(stderr,
               "recorder query: refused: queries are read-only; `%s` is not allowed "
               "(use SELECT, WITH or a reading PRAGMA)\n",
               statement.c_str());
}

int Authorize(void* data, int action, const char* a1, const char* a2, const char*, const char*) {
  bool allowed = false;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      allowed = true;
      break;
    case SQLITE_FUNCTION:
      allowed = !IEquals(a2, "load_extension");
      break;
    case SQLITE_PRAGMA:
      allowed = ReadOnlyPragma(a1, a2);
      break;
    case SQLITE_UPDATE:
      // SQLite itself asks this while preparing a table-valued pragma
      // (pragma_table_info(...)). Writing the schema table is impossible
      // here anyway: the file is opened read-only and in defensive mode.
      allowed = IEquals(a1, "sqlite_master");
      break;
    default:
      allowed = false;
  }
  if (!allowed) {
    static_cast<Guard*>(data)->refused = true;
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}

std::optional<std::string> CellText(sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_NULL:
      return std::nullopt;
    case SQLITE_BLOB: {
      const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, col));
      int n = sqlite3_column_bytes(stmt, col);
      std::string hex = "x'";
      for (int i = 0; i < n; ++i) hex += fmt::format("{:02x}", bytes[i]);
      return hex + "'";
    }
    default: {
      const unsigned char* text = sqlite3_column_text(stmt, col);
      return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt, col));
    }
  }
}

// Display width of UTF-8 text: code points, not bytes (good enough for
// the Latin, Cyrillic and CJK-free text audit logs hold).
size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) width += (c & 0xC0) != 0x80;
  return width;
}

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"')
      out += "\"\"";
    else
      out.push_back(c);
  }
  out += "\"";
  return out;
}

// Runs one prepared statement and prints its rows.
Status Print(sqlite3_stmt* stmt, sqlite3* db, Format format) {
  const int columns = sqlite3_column_count(stmt);
  std::vector<std::string> names;
  names.reserve(columns);
  for (int c = 0; c < columns; ++c) names.emplace_back(sqlite3_column_name(stmt, c));
  std::vector<std::vector<std::optional<std::string>>> rows;  // table format only
  bool first = true;
  if (format == Format::kJson && columns > 0) std::fputs("[", stdout);
  if (format == Format::kCsv && columns > 0) {
    for (int c = 0; c < columns; ++c) std::printf("%s%s", c ? "," : "", CsvField(names[c]).c_str());
    std::fputs("\r\n", stdout);
  }
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Status::Error(sqlite3_errmsg(db));
    if (format == Format::kTable) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < columns; ++c) row.push_back(CellText(stmt, c));
    } else if (format == Format::kCsv) {
      for (int c = 0; c < columns; ++c) {
        std::optional<std::string> cell = CellText(stmt, c);
        std::printf("%s%s", c ? "," : "", cell ? CsvField(*cell).c_str() : "");
      }
      std::fputs("\r\n", stdout);
    } else {
      nlohmann::ordered_json object = nlohmann::ordered_json::object();
      for (int c = 0; c < columns; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            object[names[c]] = nullptr;
            break;
          case SQLITE_INTEGER:
            object[names[c]] = sqlite3_column_int64(stmt, c);
            break;
          case SQLITE_FLOAT:
            object[names[c]] = sqlite3_column_double(stmt, c);
            break;
          default:
            object[names[c]] = *CellText(stmt, c);
        }
      }
      std::string text =
          object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      std::printf("%s\n  %s", first ? "" : ",", text.c_str());
    }
    first = false;
  }
  if (format == Format::kJson && columns > 0) std::fputs(first ? "]\n" : "\n]\n", stdout);
  if (format == Format::kTable && columns > 0) {
    std::vector<size_t> widths(columns);
    for (int c = 0; c < columns; ++c) widths[c] = DisplayWidth(names[c]);
    for (const auto& row : rows)
      for (int c = 0; c < columns; ++c)
        if (row[c]) widths[c] = std::max(widths[c], DisplayWidth(*row[c]));
    auto print_row = [&](const std::vector<std::optional<std::string>>& row) {
      std::string line;
      for (int c = 0; c < columns; ++c) {
        const std::string cell = row[c].value_or("");
        line += cell;
        if (c + 1 < columns) line += std::string(widths[c] - DisplayWidth(cell) + 2, ' ');
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      std::printf("%s\n", line.c_str());
    };
    std::vector<std::optional<std::string>> header(names.begin(), names.end());
    print_row(header);
    std::vector<std::optional<std::string>> rule;
    rule.reserve(columns);
    for (int c = 0; c < columns; ++c) rule.emplace_back(std::string(widths[c], '-'));
    print_row(rule);
    for (const auto& row : rows) print_row(row);
  }
  return Status::Ok();
}

int RunQuery(QueryOptions options) {
  const Format format = options.json ? Format::kJson : options.csv ? Format::kCsv : Format::kTable;
  // The database the recorder writes with this configuration.
  Result<std::string> path = DatabasePathFor(options.db, options.config_dir);
  if (!path.ok()) {
    std::fprintf(stderr, "recorder query: %s\n", path.status().message().c_str());
    return kExitDatabase;
  }
  options.db = *path;
  // SQLITE_OPEN_READONLY reports a missing file as "unable to open
  // database file"; say plainly which file is missing.
  struct stat st {};
  if (stat(options.db.c_str(), &st) != 0) {
    std::fprintf(stderr, "recorder query: %s: cannot open database: %s\n", options.db.c_str(),
                 std::strerror(errno));
    return kExitDatabase;
  }
  auto db = store::Database::Open(options.db, SQLITE_OPEN_READONLY);
  if (!db.ok()) {
    std::fprintf(stderr, "recorder query: %s\n", db.status().message().c_str());
    return kExitDatabase;
  }
  // SQLite opens any file lazily: "SELECT 1" on /bin/ls would succeed.
  // Reading the schema version proves it is a database, and a version
  // proves it is the recorder's.
  Result<int64_t> version = store::SchemaVersion(db->get());
  if (!version.ok()) {
    std::fprintf(stderr, "recorder query: %s\n", version.status().message().c_str());
    return kExitDatabase;
  }
  if (*version == 0) {
    std::fprintf(stderr,
                 "recorder query: %s: not a recorder database (empty, or no schema version)\n",
                 options.db.c_str());
    return kExitDatabase;
  }
  sqlite3* handle = (*db)->handle();
  sqlite3_busy_timeout(handle, 5000);
  sqlite3_db_config(handle, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  // Triggers and views in a hostile file could otherwise run with our
  // authority; with defensive mode they cannot touch shadow tables.
  sqlite3_db_config(handle, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  Guard guard;
  sqlite3_set_authorizer(handle, Authorize, &guard);

  // Prepare every statement before running any, so "SELECT ...; DROP ..."
  // is refused as a whole.
  std::vector<sqlite3_stmt*> statements;
  std::vector<std::string> texts;  // each statement's text, for messages
  auto finalize = [&] {
    for (sqlite3_stmt* s : statements) sqlite3_finalize(s);
  };
  const char* rest = options.sql.c_str();
  while (*rest) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(handle, rest, -1, &stmt, &tail);
    if (rc != SQLITE_OK) {
      const std::string statement = StatementText(rest, nullptr);
      if (guard.refused || WritesByKeyword(statement)) {
        PrintRefusal(statement);
      } else {
        std::fprintf(stderr, "recorder query: SQL error: %s\n", sqlite3_errmsg(handle));
      }
      finalize();
      return kExitSql;
    }
    if (stmt) {
      statements.push_back(stmt);
      texts.push_back(StatementText(rest, tail));
    }
    rest = tail;
  }
  if (statements.empty()) {
    std::fprintf(stderr, "recorder query: no SQL statement given\n");
    return kExitSql;
  }
  int exit_code = 0;
  for (size_t i = 0; i < statements.size(); ++i) {
    Status status = Print(statements[i], handle, format);
    if (!status.ok()) {
      if (guard.refused)
        PrintRefusal(texts[i]);
      else
        std::fprintf(stderr, "recorder query: SQL error: %s\n", status.message().c_str());
      exit_code = kExitSql;
      break;
    }
  }
  finalize();
  std::fflush(stdout);
  return exit_code;
}

}  // namespace

void AddReadDatabaseOptions(CLI::App* command, std::string* db, std::string* config_dir) {
  command->add_option("--db", *db,
                      "Database file (default: dbLocation of the configuration, monitor.db in "
                      "the configuration directory)");
  command->add_option("--config", *config_dir,
                      "Configuration directory whose dbLocation to read (default: the current "
                      "directory)");
}

Result<std::string> DatabasePathFor(const std::string& db, const std::string& config_dir) {
  if (!db.empty()) return db;
  Result<config::LoadedConfig> loaded = config::LoadConfig(config::ConfigDirFor(config_dir));
  if (!loaded.ok()) return loaded.status();
  return config::DbPathFor("", loaded->config);
}

void AddQueryCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand("query", "Run read-only SQL on monitor.db");
  cmd->description(
      "Run SQL on the event database and print the result: an aligned table by\n"
      "default, a JSON array of objects with --json, RFC 4180 CSV with --csv.\n"
      "The database is opened read-only; statements that write (INSERT, UPDATE,\n"
      "DELETE, CREATE, DROP, ALTER), ATTACH, load_extension() and setting pragmas are\n"
      "refused. Query the views (processes, file_events, network_events,\n"
      "security_events, module_events, image_events, dns_events, failed_execs,\n"
      "registry_events, sysmon_events, runs):\n"
      "their names and columns are stable, see docs/schema.md. Times are ms since the\n"
      "Unix epoch (`time`; `start_time` and `end_time` in processes), each with an\n"
      "ISO-8601 UTC twin (`time_utc`, `start_time_utc`...). Several statements\n"
      "separated by ';' run in order, each printing its rows.\n"
      "\n"
      "Examples:\n"
      "  recorder query 'SELECT start_time_utc, pid, exe, cmdline FROM processes LIMIT 20'\n"
      "  recorder query --json \"SELECT * FROM network_events WHERE remote_port = 443\"\n"
      "  recorder query --csv --db /tmp/m.db 'SELECT * FROM runs' > runs.csv\n"
      "\n"
      "Exit codes: 0 success; 1 bad SQL (SQLite's message) or a refused statement;\n"
      "2 the database file is missing, cannot be opened or is not a recorder\n"
      "database, or a usage error (unknown option, missing SQL).");
  cmd->add_option("SQL", options->sql, "The SQL to run")->required();
  AddReadDatabaseOptions(cmd, &options->db, &options->config_dir);
  auto* json = cmd->add_flag("--json", options->json, "Print a JSON array of objects");
  auto* csv = cmd->add_flag("--csv", options->csv, "Print RFC 4180 CSV with a header row");
  json->excludes(csv);
  cmd->callback([options, exit_code] { *exit_code = RunQuery(*options); });
}

}  // namespace recorder::cli
