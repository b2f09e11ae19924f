// Signals in `recorder status`, without a kernel: the JSON (rules, matches
// by level and by rule, rows stored and removed past RecordSignalMatches)
// and its text lines. The live test (live_signals_test.cc) shows them
// from a running recorder.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/daemon_status.h"
#include "daemon/status_report.h"

namespace recorder::daemon {
namespace {

TEST(StatusWithSignals, ShowsRulesMatchesByLevelAndByRuleAndTheCap) {
  StatusSnapshot s;
  s.signals.enabled = true;
  s.signals.rules = 3;
  s.signals.limit = 5;
  nlohmann::json j = StatusJson(s);
  EXPECT_EQ(j["signals"]["matches"], 0u);
  std::string text = FormatStatusText(j);
  EXPECT_NE(text.find("signals: 3 rule(s); 0 match(es)\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("removed past"), std::string::npos) << text;

  s.signals.not_loaded = 2;
  s.signals.matches[static_cast<size_t>(signals::Level::kHigh)] = 7;
  s.signals.matches[static_cast<size_t>(signals::Level::kLow)] = 1;
  s.signals.by_rule = {{"r-high", "Shell from a web server", signals::Level::kHigh, 7},
                       {"r-low", "Loopback connect", signals::Level::kLow, 1}};
  s.signals.stored = 8;
  s.signals.removed = 3;
  j = StatusJson(s);
  EXPECT_EQ(j["signals"]["matches"], 8u);
  EXPECT_EQ(j["signals"]["matches_by_level"]["high"], 7u);
  EXPECT_EQ(j["signals"]["matches_by_level"]["critical"], 0u);
  ASSERT_EQ(j["signals"]["matches_by_rule"].size(), 2u);
  EXPECT_EQ(j["signals"]["matches_by_rule"][0]["rule_id"], "r-high");
  EXPECT_EQ(j["signals"]["matches_by_rule"][0]["level"], "high");
  EXPECT_EQ(j["signals"]["matches_by_rule"][0]["matches"], 7u);
  EXPECT_EQ(j["signals"]["record_limit"], 5);
  EXPECT_EQ(j["signals"]["stored"], 8u);
  EXPECT_EQ(j["signals"]["removed_past_limit"], 3u);
  text = FormatStatusText(j);
  EXPECT_NE(text.find("signals: 3 rule(s), 2 not loaded; 8 match(es) (7 high, 1 low)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("stored in signal_matches: 8, removed past RecordSignalMatches (5): 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("       7  Shell from a web server [high] (r-high)\n"), std::string::npos)
      << text;

  s.signals.enabled = false;
  text = FormatStatusText(StatusJson(s));
  EXPECT_NE(text.find("(DisableSignals)"), std::string::npos) << text;
}

}  // namespace
}  // namespace recorder::daemon
