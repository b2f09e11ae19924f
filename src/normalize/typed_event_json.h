// TypedEvent as JSON: `recorder parse` output and the golden tests'
// expected files. Field names follow the monitor.db views.
#pragma once

#include <nlohmann/json.hpp>

#include "normalize/typed_event.h"

namespace recorder {

// EventKindName(event.body.index()): "process_start", "failed_exec", ...
std::string_view EventKindName(const TypedEvent& event);
nlohmann::json ToJson(const TypedEvent& event);

}  // namespace recorder
