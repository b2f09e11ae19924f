// Helpers every reader of the recorder's JSON files shares (recorder.json,
// the filter files, watchlist.json), so that they all spell keys, report
// broken JSON and suggest corrections the same way.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder {

// Lower-case, without '_' and '-': "MonitorDays", "monitordays" and
// "monitor_days" are the same key. The manual spells keys both ways.
std::string CanonicalKey(std::string_view key);

// "LINE:COL" for a byte offset into `text` (1-based line and column;
// nlohmann's byte offsets are 1-based and may point one past the end).
std::string OffsetToLineCol(std::string_view text, size_t byte_offset);

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

}  // namespace recorder
