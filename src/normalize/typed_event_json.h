// TypedEvent as JSON: `recorder parse` output and the golden tests'
// expected files. Field names follow the monitor.db views.
#pragma once

#include <nlohmann/json.hpp>

#include "normalize/typed_event.h"

namespace recorder {

// EventKindName(event.body.index()): "process_start", "failed_exec", ...
std::string_view EventKindName(const TypedEvent& event);
nlohmann::json ToJson(const TypedEvent& event);
// A DNS event's answers as [{"name", "type" ("A", "TYPE4660"), "ttl",
// "data"}, ...]: the JSON output's and dns_events.answers' form.
nlohmann::json DnsAnswersJson(const std::vector<DnsAnswerRecord>& answers);

}  // namespace recorder
