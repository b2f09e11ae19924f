// Text and JSON renderings of the investigation results. The text is for
// a person at a terminal (box-drawing characters only when `unicode`,
// i.e. stdout is a terminal); the JSON is for scripts and the web view:
// times there are ms since the epoch plus their ISO-8601 UTC text,
// whatever the text style.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "investigate/event_search.h"
#include "investigate/event_stream.h"
#include "investigate/process_report.h"
#include "investigate/process_tree.h"

namespace recorder::investigate {

struct TextStyle {
  bool utc = false;      // times in UTC instead of local time
  bool unicode = false;  // box-drawing characters and ×, … (else plain ASCII)
};

// Command lines longer than this many characters are cut in trees and lists.
inline constexpr size_t kShortCommandChars = 80;

std::string TreeText(const ProcessTree& tree, const TextStyle& style);
std::string ReportText(const ProcessReport& report, const TextStyle& style);
std::string TimelineText(const TimelinePage& page, const TextStyle& style);
std::string SearchText(const std::vector<SearchGroup>& groups, const TextStyle& style);
// One line per minute: its time, count and a bar scaled to the busiest
// minute (█ with `unicode`, else #). Minutes without events between the
// first and the last are shown as 0 when they are at most
// kHistogramMaxGapLines in a row, else as one "..." line.
std::string HistogramText(const std::vector<MinuteCount>& minutes, const TextStyle& style);
inline constexpr int64_t kHistogramMaxGapLines = 10;
inline constexpr int kHistogramBarWidth = 50;

nlohmann::ordered_json ProcessJson(const ProcessInfo& process);
nlohmann::ordered_json EventJson(const EventRow& event);
nlohmann::ordered_json TreeJson(const ProcessTree& tree);
nlohmann::ordered_json ReportJson(const ProcessReport& report);
nlohmann::ordered_json TimelineJson(const TimelinePage& page);
nlohmann::ordered_json SearchJson(const std::vector<SearchGroup>& groups);
// [{"minute": ms, "minute_utc": "...", "count": n}, ...]: minutes with events.
nlohmann::ordered_json HistogramJson(const std::vector<MinuteCount>& minutes);

}  // namespace recorder::investigate
