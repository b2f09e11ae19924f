// recorder's command line: a table of subcommands over the core library.
// Only this layer prints and chooses exit codes.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"

namespace {
constexpr int kExitUsage = 2;

int Main(int argc, char** argv) {
  CLI::App app{
      "recorder: a Linux endpoint flight recorder. Records processes, files, network\n"
      "connections, logins and module loads from the kernel audit subsystem into a\n"
      "SQLite database (monitor.db) you can query with plain SQL."};
  app.set_version_flag("--version", "recorder " RECORDER_VERSION);
  app.require_subcommand(0, 1);
  int exit_code = 0;
  for (const recorder::cli::Command& command : recorder::cli::kCommands)
    command.add(app, &exit_code);
  bool ran_manual_flag = false;
  recorder::cli::AddManualFlags(app, &exit_code, &ran_manual_flag);
  app.footer(
      "Files: every command reads its configuration from --config DIR, or else the\n"
      "current directory (recorder.json and *_recorder.json there), and uses the database\n"
      "--db PATH, or else that configuration's dbLocation (default: monitor.db in the\n"
      "configuration directory). 'recorder status' finds the running recorder through\n"
      "its control socket (/run/recorder/recorder.sock unless configured) from anywhere\n"
      "and shows the database that recorder writes.\n"
      "Run 'recorder COMMAND --help' for the options of a command.\n"
      "Exit codes: 0 success; 2 a usage error (unknown command or option, bad value,\n"
      "missing argument); each command's --help lists its own codes.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version arrive as "errors" with code 0. Every real
    // usage error exits 2, whatever CLI11's own code for it (105-109).
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (app.get_subcommands().empty() && exit_code == 0 && !ran_manual_flag) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  // Errors below are values; what can still arrive here is std::bad_alloc
  // or a library's exception. Say so and fail instead of aborting.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recorder: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "recorder: unknown exception\n");
  }
  return 1;
}
