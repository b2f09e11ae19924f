// watchlist.json: the Integrity Monitor's paths, their exclusions and operations.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "filter/filter_fields.h"
#include "filter/parse_support.h"
#include "util/json_text.h"

namespace recorder::filter::parse {
namespace {

using nlohmann::json;

std::string NormalizePath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

bool IsGlob(std::string_view text) { return text.find_first_of("*?[") != std::string_view::npos; }

// A watchlist path or exclusion: absolute; a glob must compile.
bool CheckWatchPath(FileReader* reader, const std::string& where, const json& value,
                    std::string* out) {
  if (!value.is_string() || value.get<std::string>().empty() ||
      value.get<std::string>()[0] != '/') {
    reader->Error(where, "expected an absolute path, got {}", Dump(value));
    return false;
  }
  *out = NormalizePath(value.get<std::string>());
  std::string error;
  if (IsGlob(*out) && !ValidRegex(GlobToRegex(*out, true), false, &error)) {
    reader->Error(where, "bad glob \"{}\": {}", *out, error);
    return false;
  }
  return true;
}

OperationMask ParseOperations(FileReader* reader, const std::string& where, const json& value) {
  const json items = value.is_array() ? value : json::array({value});
  OperationMask mask = 0;
  std::vector<std::string> names = {"all"};
  for (std::string_view n : EnumValues(Field::kOperation, EventType::kFile)) names.emplace_back(n);
  for (const json& item : items) {
    const std::string name = item.is_string() ? CanonicalKey(item.get<std::string>()) : "";
    if (name == "all") {
      mask |= kAllOperations;
    } else if (OperationMask bit = OperationBit(name)) {
      mask |= bit;
    } else {
      reader->Error(where, "unknown file operation {}{}", Dump(item),
                    item.is_string() ? DidYouMean(item.get<std::string>(), names) : "");
    }
  }
  if (mask == 0 && items.empty()) reader->Error(where, "an empty list records nothing");
  return mask;
}

}  // namespace

void ParseWatchlist(const FilterText& text, std::vector<std::string>* errors,
                    std::vector<std::string>* warnings, Watchlist* out) {
  out->file = text.name;
  Result<json> parsed = ParseJsonText(text.name, text.text);
  if (!parsed.ok()) {
    errors->push_back(parsed.status().message());
    return;
  }
  FileReader reader(text.name, errors, warnings);
  json entries;
  OperationMask default_ops = kAllOperations;
  if (parsed->is_array()) {
    entries = *parsed;
  } else if (parsed->is_object()) {
    // Operations first: they are the default of every entry.
    for (const auto& [key, value] : parsed->items())
      if (IsOneOf(CanonicalKey(key), {"operations", "ops"}))
        default_ops = ParseOperations(&reader, key, value);
    for (const auto& [key, value] : parsed->items()) {
      const std::string canonical = CanonicalKey(key);
      if (IsOneOf(canonical, {"paths", "watch", "watchlist", "watched_paths", "include"})) {
        if (!value.is_array())
          reader.Error(key, "expected a list of paths, got {}", Dump(value));
        else
          entries = value;
      } else if (IsOneOf(canonical,
                         {"exclude", "exclusions", "excluded_paths", "path_exclusions"})) {
        const json items = value.is_array() ? value : json::array({value});
        for (size_t i = 0; i < items.size(); ++i) {
          std::string path;
          if (CheckWatchPath(&reader, fmt::format("{}[{}]", key, i), items[i], &path))
            out->exclude.push_back(path);
        }
      } else if (IsOneOf(canonical, {"operations", "ops", "version"}) ||
                 IsOneOf(canonical, kCommentKeys)) {
        continue;
      } else {
        reader.Warn(key, "unknown key; ignored{}",
                    DidYouMean(key, {"paths", "exclude", "operations"}));
      }
    }
  } else {
    errors->push_back(fmt::format(
        "{}:1:1: the top level must be a list of paths or an object with \"paths\"", text.name));
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where = fmt::format("paths[{}]", i);
    WatchEntry entry;
    entry.where = fmt::format("{}: {}", text.name, where);
    entry.operations = default_ops;
    const json& item = entries[i];
    if (item.is_object()) {
      bool has_path = false;
      for (const auto& [key, value] : item.items()) {
        const std::string canonical = CanonicalKey(key);
        if (IsOneOf(canonical, {"path"})) {
          has_path = CheckWatchPath(&reader, where + ".path", value, &entry.path);
        } else if (IsOneOf(canonical, {"exclude", "exclusions"})) {
          const json items = value.is_array() ? value : json::array({value});
          for (size_t j = 0; j < items.size(); ++j) {
            std::string path;
            if (CheckWatchPath(&reader, fmt::format("{}.{}[{}]", where, key, j), items[j], &path))
              entry.exclude.push_back(path);
          }
        } else if (IsOneOf(canonical, {"operations", "ops"})) {
          entry.operations = ParseOperations(&reader, fmt::format("{}.{}", where, key), value);
        } else if (IsOneOf(canonical, {"name"}) || IsOneOf(canonical, kCommentKeys) ||
                   IsOneOf(canonical, {"recursive"})) {
          continue;
        } else {
          reader.Warn(fmt::format("{}.{}", where, key), "unknown key; ignored{}",
                      DidYouMean(key, {"path", "exclude", "operations"}));
        }
      }
      if (!has_path) {
        reader.Error(where, "an entry needs a \"path\"");
        continue;
      }
    } else if (!CheckWatchPath(&reader, where, item, &entry.path)) {
      continue;
    }
    if (IsGlob(entry.path)) {
      reader.Error(where, "a watched path is a file or directory, not a glob: \"{}\"", entry.path);
      continue;
    }
    out->entries.push_back(std::move(entry));
  }
  if (out->entries.empty()) reader.Warn("paths", "the watchlist names no path; it selects nothing");
}

}  // namespace recorder::filter::parse
