// Helpers every reader of the recorder's JSON files shares (recorder.json,
// the filter files, watchlist.json), so that they all spell keys, report
// broken JSON and suggest corrections the same way.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder::config {

// Lower-case, without '_' and '-': "MonitorDays", "monitordays" and
// "monitor_days" are the same key. The manual spells keys both ways.
std::string CanonicalKey(std::string_view key);

// Parses a whole file's text. Broken JSON is an error
// "NAME:LINE:COL: invalid JSON: syntax error ..." (the position computed
// here, so every nlohmann version reports it the same way).
Result<nlohmann::json> ParseJsonText(std::string_view name, std::string_view text);

// The candidate nearest to `key` (edit distance between canonical forms),
// or "" when none is close enough to be a plausible typo.
std::string NearestKey(std::string_view key, const std::vector<std::string>& candidates);

// " (did you mean \"X\"?)" for the nearest candidate, or "".
std::string DidYouMean(std::string_view key, const std::vector<std::string>& candidates);

// The file's bytes; an error names the path and the reason.
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace recorder::config
