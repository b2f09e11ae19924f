// TypedEvent as JSON: `recorder parse` output and the golden tests'
// expected files. Field names follow the monitor.db views.
#pragma once

#include <nlohmann/json.hpp>

#include "normalize/typed_event.h"

namespace recorder {

// "process_start", "process_end", "file", "network", "security", "module".
std::string_view EventKindName(const TypedEvent& event);
nlohmann::json ToJson(const TypedEvent& event);

}  // namespace recorder
