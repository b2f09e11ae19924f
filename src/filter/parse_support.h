// Shared by the parsers of the filter files (filter_parser.cc) and of
// watchlist.json (watchlist_parser.cc). Internal to src/filter/.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filter/filter_parser.h"

namespace recorder::filter::parse {

inline constexpr size_t kMaxErrors = 50;
inline const std::initializer_list<const char*> kCommentKeys = {"comment", "description", "note"};

// Whether `canonical` (a CanonicalKey) is one of `names`.
bool IsOneOf(const std::string& canonical, std::initializer_list<const char*> names);
// A value for a message, cut to 60 characters.
std::string Dump(const nlohmann::json& value);
// Whether RE2 (bytes, as the matchers use it) accepts `pattern`.
bool ValidRegex(const std::string& pattern, bool case_insensitive, std::string* error);

// Collects errors and warnings for one file.
class FileReader {
 public:
  FileReader(std::string file, std::vector<std::string>* errors, std::vector<std::string>* warnings)
      : file_(std::move(file)), errors_(errors), warnings_(warnings) {}

  template <typename... Args>
  void Error(std::string_view where, fmt::format_string<Args...> format, Args&&... args) {
    if (errors_->size() < kMaxErrors)
      errors_->push_back(fmt::format("{}: {}: {}", file_, where,
                                     fmt::format(format, std::forward<Args>(args)...)));
  }
  template <typename... Args>
  void Warn(std::string_view where, fmt::format_string<Args...> format, Args&&... args) {
    warnings_->push_back(
        fmt::format("{}: {}: {}", file_, where, fmt::format(format, std::forward<Args>(args)...)));
  }
  const std::string& file() const { return file_; }
  size_t error_count() const { return errors_->size(); }

 private:
  std::string file_;
  std::vector<std::string>* errors_;
  std::vector<std::string>* warnings_;
};

// Fills *out from watchlist.json's text; errors and warnings as for the
// filter files.
void ParseWatchlist(const FilterText& text, std::vector<std::string>* errors,
                    std::vector<std::string>* warnings, Watchlist* out);

}  // namespace recorder::filter::parse
