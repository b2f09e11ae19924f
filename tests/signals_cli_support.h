// What the tests of the signals commands share: the captured kernel log
// (tests/data/capture-raw.log), the test rules (tests/data/signals), and
// a replay of the one matched against rules.
#pragma once

#include <string>

#include "recorder_cli.h"

namespace recorder::signals_cli_test {

inline const std::string kData = RECORDER_TEST_DATA;
inline const std::string kLog = kData + "/capture-raw.log";
inline const std::string kRules = kData + "/signals";

// `recorder replay` of kLog into `db` with the configuration directory
// `config_dir`, matching the rules of `rules`; `extra` goes before the log.
inline RecorderRun ReplayMatching(const std::string& config_dir, const std::string& db,
                                  const std::string& rules = kRules,
                                  const std::string& extra = "") {
  return RunRecorder("replay --no-progress --config " + ShellQuote(config_dir) + " --db " +
                     ShellQuote(db) + " --signals " + ShellQuote(rules) + " " + extra + " " +
                     ShellQuote(kLog));
}

}  // namespace recorder::signals_cli_test
