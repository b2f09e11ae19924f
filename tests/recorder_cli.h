// Test helpers: the recorder binary under test, run by its command line
// through /bin/sh (run_command.h), as a user would.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "run_command.h"

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

}  // namespace recorder
