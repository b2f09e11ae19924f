// The subcommand table. Each command lives in its own file and adds a
// CLI11 subcommand whose callback stores the process exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace recorder::cli {

struct Command {
  const char* name;
  void (*add)(CLI::App& app, int* exit_code);
};

void AddParseCommand(CLI::App& app, int* exit_code);

inline constexpr Command kCommands[] = {
    {"parse", AddParseCommand},
};

}  // namespace recorder::cli
