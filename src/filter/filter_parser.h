// Reading filter files and watchlist.json into the filter model
// (filter_rules.h). Pure: texts in, model + warnings out; the loader
// (filter_loader.h) reads the files.
//
// A mistake that would change what is recorded is an error naming the
// file, the rule and the reason (unknown field, field not applicable to
// the type, bad operator, regex, glob, CIDR, port, enum value); the
// recorder refuses to start with it. Keys that select nothing (an unknown
// section, a comment-like key) are warnings naming the nearest known key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter_rules.h"
#include "util/status.h"

namespace recorder::filter {

struct FilterText {
  std::string name;  // the file's path, for messages; its base name gives the product
  std::string text;
};

struct ParsedFilters {
  FilterConfig config;
  std::vector<std::string> warnings;
};

// "filters.json" (or any name not ending in "_filters.json") -> "";
// "im_filters.json" -> "im".
std::string ProductOfFile(std::string_view path);

// Parses every filter file and the watchlist. Files are ordered: the main
// filters file (product "") first, then by product name. All errors are
// collected: the Status message has one line per error.
Result<ParsedFilters> ParseFilterTexts(std::vector<FilterText> filter_files,
                                       std::optional<FilterText> watchlist,
                                       bool only_watch_file_root = true);

// Glob -> RE2 syntax, anchored at both ends. In path fields `*` and `?`
// stop at '/', `**` crosses it; elsewhere `*` matches anything. Exposed
// for tests.
std::string GlobToRegex(std::string_view glob, bool path_semantics);

// Address or CIDR text ("10.0.0.0/8", "::1", "fe80::/10"). `host_bits`
// is set when bits past the prefix were not zero (they are cleared).
std::optional<Cidr> ParseCidr(std::string_view text, bool* host_bits = nullptr);

}  // namespace recorder::filter
