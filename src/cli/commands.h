// The subcommand table. Each command lives in its own file and adds a
// CLI11 subcommand whose callback stores the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "util/status.h"

namespace recorder::cli {

struct Command {
  const char* name;
  void (*add)(CLI::App& app, int* exit_code);
};

void AddParseCommand(CLI::App& app, int* exit_code);
void AddRunCommand(CLI::App& app, int* exit_code);
void AddStartCommand(CLI::App& app, int* exit_code);
void AddStopCommand(CLI::App& app, int* exit_code);
void AddStatusCommand(CLI::App& app, int* exit_code);
void AddPluginCommand(CLI::App& app, int* exit_code);
void AddReplayCommand(CLI::App& app, int* exit_code);
void AddQueryCommand(CLI::App& app, int* exit_code);
void AddTreeCommand(CLI::App& app, int* exit_code);
void AddShowCommand(CLI::App& app, int* exit_code);
void AddTimelineCommand(CLI::App& app, int* exit_code);
void AddSearchCommand(CLI::App& app, int* exit_code);
void AddSearchIndexCommand(CLI::App& app, int* exit_code);
void AddServeCommand(CLI::App& app, int* exit_code);
void AddInstallCommand(CLI::App& app, int* exit_code);
void AddUninstallCommand(CLI::App& app, int* exit_code);
void AddConfigCommand(CLI::App& app, int* exit_code);
void AddRecreateDbCommand(CLI::App& app, int* exit_code);
void AddSignalsCommand(CLI::App& app, int* exit_code);
// `signals hunt`, a subcommand of `signals` (hunt_command.cc).
void AddSignalsHuntCommand(CLI::App* signals_command, int* exit_code);
// --db and --config of the commands that read a database (query, tree,
// show, timeline, search): config::DbPathFor turns them into the file.
void AddReadDatabaseOptions(CLI::App* command, std::string* db, std::string* config_dir);
// The file those options name: `db`, or else the dbLocation of the
// configuration in `config_dir` (the current directory when empty).
Result<std::string> DatabasePathFor(const std::string& db, const std::string& config_dir);
// The manual's `recorder --start|--stop|--status`; sets *handled when one ran.
void AddManualFlags(CLI::App& app, int* exit_code, bool* handled);

inline constexpr Command kCommands[] = {
    {"parse", AddParseCommand},
    {"run", AddRunCommand},
    {"start", AddStartCommand},
    {"stop", AddStopCommand},
    {"status", AddStatusCommand},
    {"plugin", AddPluginCommand},
    {"replay", AddReplayCommand},
    {"query", AddQueryCommand},
    {"tree", AddTreeCommand},
    {"show", AddShowCommand},
    {"timeline", AddTimelineCommand},
    {"search", AddSearchCommand},
    {"search-index", AddSearchIndexCommand},
    {"serve", AddServeCommand},
    {"install", AddInstallCommand},
    {"uninstall", AddUninstallCommand},
    {"config", AddConfigCommand},
    {"recreate-db", AddRecreateDbCommand},
    {"signals", AddSignalsCommand},
};

}  // namespace recorder::cli
