#include "store/string_interner.h"

#include <nlohmann/json.hpp>

namespace recorder::store {

namespace {
// Rough heap cost of a cache entry beyond its characters (node, bucket).
constexpr size_t kEntryOverhead = 64;

// The id of the row `select` finds for `key` (its ?1); 0 when none.
Result<int64_t> FindId(Statement* select, std::string_view key) {
  select->BindText(1, key);
  Result<bool> row = select->Step();
  const int64_t id = row.ok() && *row ? select->ColumnInt(0) : 0;
  select->Reset();
  if (!row.ok()) return row.status();
  return id;
}

}  // namespace

Result<std::unique_ptr<StringInterner>> StringInterner::Create(Database* db, size_t cache_bytes) {
  std::unique_ptr<StringInterner> interner(new StringInterner(db, cache_bytes));
  struct {
    std::unique_ptr<Statement>* out;
    const char* sql;
  } statements[] = {
      {&interner->select_string_, "SELECT id FROM strings WHERE value = ?1"},
      {&interner->insert_string_, "INSERT INTO strings(value) VALUES (?1)"},
      {&interner->select_command_, "SELECT id FROM commands WHERE argv = ?1"},
      {&interner->insert_command_, "INSERT INTO commands(argv, cmdline) VALUES (?1, ?2)"},
  };
  for (auto& s : statements) {
    Result<std::unique_ptr<Statement>> stmt = db->Prepare(s.sql);
    if (!stmt.ok()) return stmt.status();
    *s.out = std::move(stmt).value();
  }
  return interner;
}

void StringInterner::Remember(Cache* cache, std::string_view key, int64_t id) {
  size_t cost = key.size() + kEntryOverhead;
  if (used_bytes_ + cost > cache_bytes_) ForgetAll();  // full: start over
  cache->emplace(std::string(key), id);
  used_bytes_ += cost;
}

Result<int64_t> StringInterner::Intern(std::string_view value) {
  if (value.empty()) return int64_t{0};
  auto it = strings_.find(value);
  if (it != strings_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  Result<int64_t> found = FindId(select_string_.get(), value);
  if (!found.ok()) return found.status();
  int64_t id = *found;
  if (id == 0) {
    insert_string_->BindText(1, value);
    Status status = insert_string_->Run();
    if (!status.ok()) return status;
    id = db_->LastInsertRowid();
  }
  Remember(&strings_, value, id);
  return id;
}

Result<int64_t> StringInterner::InternArgv(const std::vector<std::string>& argv) {
  if (argv.empty()) return int64_t{0};
  key_.clear();
  for (const std::string& arg : argv) {
    key_.append(arg);
    key_.push_back('\0');
  }
  auto it = commands_.find(key_);
  if (it != commands_.end()) {
    ++hits_;
    return it->second;
  }
  ++misses_;
  std::string json = ArgvJson(argv);
  Result<int64_t> found = FindId(select_command_.get(), json);
  if (!found.ok()) return found.status();
  int64_t id = *found;
  if (id == 0) {
    insert_command_->BindText(1, json);
    insert_command_->BindText(2, ShellJoin(argv));
    Status status = insert_command_->Run();
    if (!status.ok()) return status;
    id = db_->LastInsertRowid();
  }
  Remember(&commands_, key_, id);
  return id;
}

std::string ShellJoin(const std::vector<std::string>& argv) {
  auto safe = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  };
  std::string out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i > 0) out.push_back(' ');
    const std::string& arg = argv[i];
    bool plain = !arg.empty();
    for (char c : arg) plain = plain && safe(c);
    if (plain) {
      out.append(arg);
      continue;
    }
    out.push_back('\'');
    for (char c : arg) {
      if (c == '\'')
        out.append("'\\''");
      else
        out.push_back(c);
    }
    out.push_back('\'');
  }
  return out;
}

std::string ArgvJson(const std::vector<std::string>& argv) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& arg : argv) array.push_back(arg);
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace recorder::store
