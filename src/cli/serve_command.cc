// `recorder serve`: the web view. Options, the token and the start
// message here; the server is src/serve/. SIGINT and SIGTERM are taken
// by this thread with sigwait and stop the server cleanly.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "investigate/investigation_db.h"
#include "serve/access_policy.h"
#include "serve/web_server.h"

namespace recorder::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitCannotListen = 1;

struct ServeOptions {
  std::string db;
  std::string config_dir;
  std::string listen = std::string(serve::kDefaultListen);
  std::string token;
  bool no_token = false;
};

int Fail(const Status& status, int code) {
  std::fprintf(stderr, "recorder serve: %s\n", status.message().c_str());
  return code;
}

int RunServe(const ServeOptions& options) {
  Result<serve::ListenAddress> listen = serve::ParseListenAddress(options.listen);
  if (!listen.ok()) return Fail(listen.status(), kExitUsage);
  std::string random;
  if (options.token.empty() && !options.no_token) {
    Result<std::string> bytes = serve::RandomBytes();
    if (!bytes.ok()) return Fail(bytes.status(), kExitCannotListen);
    random = std::move(*bytes);
  }
  Result<serve::TokenChoice> token =
      serve::ChooseToken(*listen, options.token, options.no_token, random);
  if (!token.ok()) return Fail(token.status(), kExitUsage);
  Result<std::string> db_path = DatabasePathFor(options.db, options.config_dir);
  if (!db_path.ok()) return Fail(db_path.status(), kExitUsage);
  const std::string& path = *db_path;
  // Opened once here so a wrong path fails now, not at the first click.
  if (auto db = investigate::OpenInvestigationDb(path); !db.ok())
    return Fail(db.status(), kExitUsage);

  serve::WebServer server({path, *listen, token->token});
  Result<int> port = server.Bind();
  if (!port.ok()) return Fail(port.status(), kExitCannotListen);
  // The server's threads start with SIGINT and SIGTERM blocked, so both
  // come to the sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::thread serving([&server] {
    server.Run();
    // Run ends on Stop() or when the socket fails: wake the sigwait.
    kill(getpid(), SIGTERM);
  });
  const std::string message = serve::StartMessage(*listen, *port, *token);
  std::fprintf(stderr, "recorder serve: database %s\n%s", path.c_str(), message.c_str());
  std::fflush(stderr);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  server.Stop();
  serving.join();
  std::fprintf(stderr, "recorder serve: stopped\n");
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a web view of monitor.db (read-only)");
  cmd->description(
      "Serve a local web page to investigate monitor.db: search, a timeline with a\n"
      "histogram to zoom into, and processes with their ancestry, descendants and\n"
      "activity. The page's JSON API (/api/tree, /api/show, /api/timeline,\n"
      "/api/histogram, /api/search) answers with the same queries and JSON as\n"
      "`recorder tree`, `show`, `timeline` and `search --json`. The database is opened\n"
      "read-only; only GET is served. See docs/investigate.md (\"Web view\").\n"
      "\n"
      "Security: it listens on 127.0.0.1 unless --listen says otherwise, and every\n"
      "request needs a token: --token, or one generated and printed with the URL to\n"
      "open (http://127.0.0.1:8765/?token=...; the page then keeps it in a cookie;\n"
      "scripts send 'Authorization: Bearer TOKEN'). Any local user can reach a\n"
      "loopback port, so the token is on there too; --no-token is allowed on a\n"
      "loopback address only. A --listen on another address needs a token as well\n"
      "and prints a warning. Ctrl-C or SIGTERM stops it.\n"
      "\n"
      "Examples:\n"
      "  recorder serve --db monitor.db\n"
      "  recorder serve --listen 127.0.0.1:0\n"
      "  recorder serve --listen 0.0.0.0:8765 --db /var/lib/recorder/monitor.db\n"
      "\n"
      "Exit codes: 0 stopped by SIGINT/SIGTERM; 1 cannot listen on the address;\n"
      "2 a bad option (address, token), or the database is missing or not a\n"
      "recorder database.");
  AddReadDatabaseOptions(cmd, &options->db, &options->config_dir);
  cmd->add_option("--listen", options->listen,
                  "HOST:PORT to listen on, HOST an IP address ([::1]:PORT for IPv6); port 0 "
                  "picks a free one (default 127.0.0.1:8765)");
  cmd->add_option("--token", options->token,
                  "The token every request must carry (at least 16 characters; default: "
                  "generated and printed)");
  cmd->add_flag("--no-token", options->no_token,
                "Ask no token (loopback addresses only: every local user can then read the "
                "database)");
  cmd->callback([options, exit_code] { *exit_code = RunServe(*options); });
}

}  // namespace recorder::cli
