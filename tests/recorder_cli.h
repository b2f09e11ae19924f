// Test helpers: the recorder binary under test, run by its command line
// through /bin/sh (run_command.h), as a user would.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "run_command.h"
#include "temp_dir.h"

namespace recorder {

struct RecorderRun {
  int exit_code = -1;  // as RunCommand's
  std::string text;    // stdout, and stderr unless it was kept apart
  std::string err;     // stderr, when kept apart (RunRecorderApart)
};

// `recorder ARGS`: stdout and stderr together in `text` (a redirection in
// `args`, e.g. `2>/dev/null`, keeps stderr out).
inline RecorderRun RunRecorder(const std::string& args) {
  CommandResult run = RunCommand(ShellQuote(RECORDER_BINARY) + " " + args);
  return RecorderRun{run.exit_code, std::move(run.output), ""};
}

// `recorder ARGS` with stderr kept apart, in `err`, through file `err_file`.
inline RecorderRun RunRecorderApart(const std::string& args, const std::string& err_file) {
  RecorderRun run = RunRecorder(args + " 2>" + ShellQuote(err_file));
  std::ifstream in(err_file);
  std::stringstream s;
  s << in.rdbuf();
  run.err = s.str();
  return run;
}

// Each line of `text` parsed as JSON (a discarded value for a line that is
// not JSON), for commands that print JSON lines.
inline std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line, nullptr, false));
  return lines;
}

// For a suite's SetUpTestSuite: one database replayed from
// tests/data/capture-raw.log, shared by the suite's tests (the replay is
// the slow part), in a new temp dir named `name` the suite deletes.
inline void ReplayCaptureOnce(const char* name, TempDir** temp, std::string* db) {
  *temp = new TempDir(name);
  *db = (*temp)->File("monitor.db");
  ASSERT_EQ(RunRecorder("replay --db " + ShellQuote(*db) + " " +
                        ShellQuote(std::string(RECORDER_TEST_DATA) + "/capture-raw.log"))
                .exit_code,
            0);
}

}  // namespace recorder
