#include "config/filter_locations.h"

namespace recorder::config {

filter::FilterLocations FilterLocationsOf(const RecorderConfig& config) {
  filter::FilterLocations where;
  where.config_dir = config.config_dir;
  where.filters_file = config.filter_location;
  where.watchlist_file = config.watchlist_location;
  where.only_watch_file_root = config.only_watch_file_root;
  return where;
}

}  // namespace recorder::config
