// `recorder recreate-db [--discard]`: the manual's "Recreate Database".
// With a recorder running, it asks it over the control socket: the
// recorder switches files between two transactions, so no event is lost.
// Without one, the file is archived (or removed) here and a fresh,
// empty database created in its place.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "daemon/control_channel.h"
#include "store/db_archive.h"
#include "store/event_store.h"
#include "util/clock.h"

namespace recorder::cli {
namespace {

struct RecreateOptions {
  std::string db;
  std::string config_dir;
  std::string state_dir;
  bool discard = false;
};

std::string Absolute(const std::string& path) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "recorder: %s\n", message.c_str());
  return 1;
}

// Asks the running recorder; its database is the one recreated.
int AskRunningRecorder(const RecreateOptions& options, const std::string& socket) {
  Result<std::string> status = daemon::ControlRequest(socket, "status");
  nlohmann::json running = status.ok()
                               ? nlohmann::json::parse(*status, nullptr, /*allow_exceptions=*/false)
                               : nlohmann::json();
  if (!running.is_discarded() && running.contains("db") && !options.db.empty()) {
    const std::string in_use = running["db"].value("path", "");
    if (!in_use.empty() && in_use != Absolute(options.db))
      return Fail(fmt::format("the running recorder writes {}, not {}; leave out --db or stop it",
                              in_use, Absolute(options.db)));
  }
  Result<std::string> answer =
      daemon::ControlRequest(socket, options.discard ? "recreate-db discard" : "recreate-db",
                             // Archiving a large database takes a while.
                             10 * 60 * 1000);
  if (!answer.ok()) return Fail(answer.status().message());
  nlohmann::json reply = nlohmann::json::parse(*answer, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded()) return Fail("unreadable answer from the recorder: " + *answer);
  if (!reply.value("ok", false)) return Fail(reply.value("error", std::string("refused")));
  std::printf("%s\nrecording goes on in a fresh %s\n", reply.value("what", std::string()).c_str(),
              reply.value("db", std::string()).c_str());
  return 0;
}

int RecreateOffline(const RecreateOptions& options, const config::RecorderConfig& config) {
  const std::string db = Absolute(!options.db.empty()           ? options.db
                                  : !options.config_dir.empty() ? config.db_location
                                                                : "monitor.db");
  const int64_t now_ms = WallMs();
  std::string what;
  if (options.discard) {
    Status removed = store::RemoveDatabase(db);
    if (!removed.ok()) return Fail(removed.message());
    what = fmt::format("{}: removed without an archive", db);
  } else {
    // Asked for by a person: this archive is kept even with
    // DatabaseArchiveLimit 0 (older ones go down to the limit).
    Result<store::ArchiveResult> archived =
        store::ArchiveDatabase(db, now_ms, std::max(config.database_archive_limit, 1));
    if (!archived.ok()) return Fail(archived.status().message());
    what = fmt::format("{}: archived to {}", db, archived->archive);
    for (const std::string& erased : archived->erased)
      what += fmt::format("\nerased {} (DatabaseArchiveLimit {})", erased,
                          std::max(config.database_archive_limit, 1));
  }
  Result<std::unique_ptr<store::EventStore>> fresh = store::EventStore::Open(db);
  if (!fresh.ok()) return Fail(fresh.status().message());
  std::printf("%s\nfresh database: %s\n", what.c_str(), db.c_str());
  return 0;
}

int RecreateDb(const RecreateOptions& options) {
  Result<config::LoadedConfig> loaded =
      config::LoadConfig(options.config_dir.empty() ? "." : options.config_dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "recorder: %s\n", loaded.status().message().c_str());
    return 2;
  }
  config::RecorderConfig config = loaded->config;
  if (!options.state_dir.empty()) {
    config.state_dir = Absolute(options.state_dir);
    config.control_socket = config.state_dir + "/recorder.sock";
    config.pid_file = config.state_dir + "/recorder.pid";
  }
  if (daemon::ControlRequest(config.control_socket, "ping", 1000).ok())
    return AskRunningRecorder(options, config.control_socket);
  // A live recorder that does not answer still writes the file: leave it.
  if (int pid = daemon::ReadLivePid(config.pid_file); pid != 0)
    return Fail(
        fmt::format("recorder pid {} is running but does not answer on {}; not touching "
                    "its database",
                    pid, config.control_socket));
  return RecreateOffline(options, config);
}

}  // namespace

void AddRecreateDbCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<RecreateOptions>();
  CLI::App* command = app.add_subcommand(
      "recreate-db",
      "Archive the database and start a fresh one (the manual's \"Recreate Database\", for a\n"
      "database that is damaged or that you want to start over). The archive is\n"
      "<db>.archive-<UTC time>.gz next to it (0600; `gunzip -k` gives the database back);\n"
      "DatabaseArchiveLimit older archives are kept, and this one even when the limit is 0.\n"
      "--discard removes the database instead, without an archive.\n"
      "While a recorder runs, it is asked over its control socket and switches files between\n"
      "two writes: no event is lost, the old run ends and a new one begins in the fresh file\n"
      "(runs.note says why). Otherwise the file is archived here and an empty database made.\n"
      "Exit codes: 0 done; 1 it failed (the message says at which step); 2 a usage or\n"
      "configuration error.\n"
      "Example: sudo recorder recreate-db --config /etc/recorder");
  command->add_flag("--discard", options->discard, "Remove the database instead of archiving it");
  command->add_option("--db", options->db,
                      "Database when no recorder runs (default: ./monitor.db, or dbLocation "
                      "from --config); with one running, its own database");
  command->add_option("--config", options->config_dir,
                      "Configuration directory (DatabaseArchiveLimit, dbLocation, state paths)");
  command->add_option("--state-dir", options->state_dir, "As given to start/run");
  command->callback([options, exit_code] { *exit_code = RecreateDb(*options); });
}

}  // namespace recorder::cli
