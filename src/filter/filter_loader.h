// Finding, reading and compiling the filter files of a configuration
// directory: filterLocation (default filters.json), every
// <product>_filters.json beside it, and WatchlistFile (default
// watchlist.json). Missing files are not errors: no file means no filter.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filter/compiled_filters.h"
#include "filter/filter_parser.h"
#include "util/status.h"

namespace recorder::filter {

inline constexpr char kProductFilterSuffix[] = "_filters.json";

struct FilterLocations {
  std::string config_dir;      // searched for <product>_filters.json
  std::string filters_file;    // the main filter file (may not exist)
  std::string watchlist_file;  // may not exist
  bool only_watch_file_root = true;
};

struct LoadedFilters {
  std::shared_ptr<const CompiledFilters> filters;
  std::vector<std::string> warnings;
  std::vector<std::string> files;  // read, in merge order (the watchlist last)
};

// Parses and compiles texts (pure; LoadFilters reads the files for it).
Result<LoadedFilters> CompileFilterTexts(std::vector<FilterText> filter_files,
                                         std::optional<FilterText> watchlist,
                                         bool only_watch_file_root = true);

// Reads the files `where` names and compiles them. An unreadable file, a
// broken one or a bad rule is an error naming the file (and rule).
Result<LoadedFilters> LoadFilters(const FilterLocations& where);

}  // namespace recorder::filter
