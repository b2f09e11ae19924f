// Where the filter stage finds its files, as the configuration says
// (filterLocation, WatchlistFile, onlyWatchFileRoot and the directory of
// the <product>_filters.json files).
#pragma once

#include "config/config.h"
#include "filter/filter_loader.h"

namespace recorder::config {

filter::FilterLocations FilterLocationsOf(const RecorderConfig& config);

}  // namespace recorder::config
