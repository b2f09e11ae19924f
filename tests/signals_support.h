// What the signals tests share: rules compiled from their YAML texts.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"

namespace recorder::signals_test {

// texts[i] loaded as file "r<i>.yml" (each must load: a failure is the
// test's) and compiled together; null when they do not compile.
inline std::shared_ptr<const signals::SignalMatcher> CompileRules(
    const std::vector<std::string>& texts) {
  std::vector<signals::SigmaRule> rules;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::optional<signals::SigmaRule> rule;
    signals::RuleReport report =
        signals::LoadSigmaText("r" + std::to_string(i) + ".yml", texts[i], {}, &rule);
    EXPECT_EQ(report.outcome, signals::Outcome::kLoaded) << report.reason;
    if (rule) rules.push_back(std::move(*rule));
  }
  auto compiled = signals::SignalMatcher::Compile(std::move(rules));
  EXPECT_TRUE(compiled.ok()) << compiled.status().message();
  return compiled.ok() ? *compiled : nullptr;
}

}  // namespace recorder::signals_test
