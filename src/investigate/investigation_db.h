// The read-only connection every investigation query runs on, shared by
// the commands (tree, show, timeline, search) and, later, the web view.
#pragma once

#include <memory>
#include <string>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// Opens `path` read-only and proves it is a recorder database. kNotFound
// for a missing file, kInvalid for a file that is not a recorder
// database (empty, or no schema version), SQLite's code otherwise; every
// message names the file.
Result<std::unique_ptr<store::Database>> OpenInvestigationDb(const std::string& path);

}  // namespace recorder::investigate
