// Test helper: the configuration the rules tests install, against
// FakeAuditControl (rules_test.cc) and the real kernel (live_rules_test.cc).
#pragma once

#include "config/config.h"

namespace recorder::rules {

// The key of the rules these tests install.
inline constexpr char kRulesTestKey[] = "recorder-rulestest";

inline config::RecorderConfig RulesTestConfig() {
  config::RecorderConfig c = config::DefaultConfig("/tmp");
  c.rule_key = kRulesTestKey;
  c.recorder_exe = RECORDER_BINARY;
  // Low on purpose: Install only ever raises the backlog, so the live
  // tests leave the machine's backlog alone.
  c.backlog_limit = 64;
  return c;
}

}  // namespace recorder::rules
