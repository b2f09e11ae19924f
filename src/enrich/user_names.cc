#include "enrich/user_names.h"

#include <charconv>
#include <fstream>
#include <string_view>

#include "normalize/typed_event.h"

namespace recorder::enrich {

namespace {

constexpr int64_t kAuditUnset = 4294967295LL;

std::string NameOf(const std::unordered_map<int64_t, std::string>& names, int64_t id) {
  if (id == kUnsetId || id == kAuditUnset) return "unset";
  auto it = names.find(id);
  return it != names.end() ? it->second : std::to_string(id);
}

}  // namespace

UserNames::UserNames(UserNamesOptions options) : options_(std::move(options)) {
  users_.path = options_.passwd_path;
  groups_.path = options_.group_path;
}

void UserNames::Reload(Table* table) {
  Result<FileKey> key = StatFileKey(table->path);
  if (!key.ok()) {
    // Gone: keep the names we had rather than turning every user into a
    // number while the file is being replaced.
    return;
  }
  if (table->loaded && *key == table->key) return;
  std::ifstream in(table->path);
  if (!in) return;
  std::unordered_map<int64_t, std::string> names;
  std::string line;
  // name:password:ID:... in both files; the first entry for an id wins,
  // as in getpwuid().
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    size_t first = line.find(':');
    if (first == std::string::npos || first == 0) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string::npos) continue;
    size_t third = line.find(':', second + 1);
    std::string_view id_text = std::string_view(line).substr(
        second + 1, third == std::string::npos ? std::string::npos : third - second - 1);
    int64_t id;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size()) continue;
    names.try_emplace(id, line.substr(0, first));
  }
  table->names = std::move(names);
  table->key = *key;
  table->loaded = true;
  ++reloads_;
}

void UserNames::MaybeRefresh(int64_t now_ms) {
  if (last_check_ms_ != INT64_MIN && now_ms - last_check_ms_ < options_.refresh_interval_ms &&
      now_ms >= last_check_ms_) {
    return;
  }
  last_check_ms_ = now_ms;
  Reload(&users_);
  Reload(&groups_);
}

std::string UserNames::Name(Table* table, int64_t id, int64_t now_ms) {
  MaybeRefresh(now_ms);
  if (id != kUnsetId && id != kAuditUnset && !table->names.contains(id) &&
      (now_ms - last_check_ms_ >= options_.miss_recheck_interval_ms || now_ms < last_check_ms_)) {
    last_check_ms_ = now_ms;
    Reload(&users_);
    Reload(&groups_);
  }
  return NameOf(table->names, id);
}

std::string UserNames::UserName(int64_t uid, int64_t now_ms) { return Name(&users_, uid, now_ms); }

std::string UserNames::GroupName(int64_t gid, int64_t now_ms) {
  return Name(&groups_, gid, now_ms);
}

}  // namespace recorder::enrich
