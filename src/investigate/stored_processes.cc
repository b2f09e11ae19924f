#include "investigate/stored_processes.h"

#include <nlohmann/json.hpp>

namespace recorder::investigate {

int64_t ColumnIntOr(const store::Statement& statement, int column, int64_t fallback) {
  return statement.ColumnType(column) == SQLITE_NULL ? fallback : statement.ColumnInt(column);
}

Result<std::unique_ptr<StringCache>> StringCache::Open(store::Database& db) {
  Result<std::unique_ptr<store::Statement>> select =
      db.Prepare("SELECT value FROM strings WHERE id = ?1");
  if (!select.ok()) return select.status();
  return std::unique_ptr<StringCache>(new StringCache(std::move(select).value()));
}

std::string_view StringCache::Get(int64_t id) const {
  if (id <= 0) return {};
  auto it = values_.find(id);
  if (it != values_.end()) return it->second;
  select_->BindInt(1, id);
  Result<bool> row = select_->Step();
  std::string value = row.ok() && *row ? std::string(select_->ColumnText(0)) : std::string();
  select_->Reset();
  return values_.emplace(id, std::move(value)).first->second;
}

Result<std::unique_ptr<StoredProcesses>> StoredProcesses::Load(store::Database& db,
                                                               const StringCache* strings,
                                                               bool keep_argv) {
  Result<std::unique_ptr<store::Statement>> select_command =
      db.Prepare("SELECT argv FROM commands WHERE id = ?1");
  if (!select_command.ok()) return select_command.status();
  std::unique_ptr<StoredProcesses> out(
      new StoredProcesses(strings, std::move(select_command).value(), keep_argv));
  // windows_process_data exists from schema version 11 on.
  Result<std::unique_ptr<store::Statement>> has_windows = db.Prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'windows_process_data'");
  if (!has_windows.ok()) return has_windows.status();
  Result<bool> windows_table = (*has_windows)->Step();
  if (!windows_table.ok()) return windows_table.status();
  Result<std::unique_ptr<store::Statement>> select = db.Prepare(
      std::string(
          "SELECT process_id, pid, ppid, parent_process_id, exe_id, command_id, uid, auid, ") +
      (*windows_table ? "process_id IN (SELECT process_id FROM windows_process_data)" : "0") +
      " FROM process_data");
  if (!select.ok()) return select.status();
  store::Statement& s = **select;
  while (true) {
    Result<bool> row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    Row r;
    r.pid = static_cast<int32_t>(s.ColumnInt(1));
    r.ppid = static_cast<int32_t>(ColumnIntOr(s, 2, 0));
    r.parent_id = ColumnIntOr(s, 3, -1);
    r.exe_id = ColumnIntOr(s, 4, 0);
    r.command_id = ColumnIntOr(s, 5, 0);
    r.uid = ColumnIntOr(s, 6, -1);
    r.auid = ColumnIntOr(s, 7, -1);
    r.windows = s.ColumnInt(8) != 0;
    out->rows_.emplace(s.ColumnInt(0), r);
  }
  return out;
}

const StoredProcesses::Row* StoredProcesses::Find(int64_t process_id) const {
  auto it = rows_.find(process_id);
  return it == rows_.end() ? nullptr : &it->second;
}

const std::vector<std::string>& StoredProcesses::Argv(int64_t command_id) const {
  static const std::vector<std::string> kNone;
  if (command_id <= 0) return kNone;
  auto it = argv_.find(command_id);
  if (it != argv_.end()) return it->second;
  std::vector<std::string> argv;
  select_command_->BindInt(1, command_id);
  Result<bool> row = select_command_->Step();
  if (row.ok() && *row) {
    // The store writes argv as a JSON array of strings (string_interner.h).
    nlohmann::json parsed = nlohmann::json::parse(select_command_->ColumnText(0), nullptr, false);
    if (parsed.is_array())
      for (const nlohmann::json& arg : parsed)
        if (arg.is_string()) argv.push_back(arg.get<std::string>());
  }
  select_command_->Reset();
  return argv_.emplace(command_id, std::move(argv)).first->second;
}

bool StoredProcesses::Instance(std::string_view node, int32_t pid, int64_t key, int64_t /*at_ms*/,
                               filter::ProcessFacts* out) const {
  const Row* row = key >= 0 ? Find(key) : nullptr;
  if (row == nullptr || row->pid != pid) return false;
  out->node = node;
  out->pid = row->pid;
  out->start_ms = key;
  const Row* parent = row->parent_id >= 0 ? Find(row->parent_id) : nullptr;
  out->ppid = parent != nullptr ? parent->pid : row->ppid;
  out->parent_start_ms = parent != nullptr ? row->parent_id : -1;
  out->exe = Exe(*row);
  out->argv = keep_argv_ ? &Argv(row->command_id) : nullptr;
  out->uid = row->uid;
  out->auid = row->auid;
  return true;
}

}  // namespace recorder::investigate
