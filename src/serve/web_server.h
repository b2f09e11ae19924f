// `recorder serve`'s HTTP server: a thin shell of cpp-httplib around the
// pure parts (access_policy.h decides who may ask, api_request.h what a
// request asks, api_answer.h answers it with the investigate code). It
// owns the listening socket and httplib's worker threads; signals stay
// with the caller, which calls Stop().
//
// Every response carries kSecurityHeaders. Only GET and HEAD are served;
// every database connection is read-only (investigate::OpenInvestigationDb),
// opened per request so a replaced monitor.db is seen at once.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "serve/access_policy.h"
#include "util/status.h"

namespace httplib {
class Server;
}

namespace recorder::serve {

// No script or style but the page's own files (no inline code), no
// framing, no plugins, requests to this server only.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

inline constexpr std::pair<std::string_view, std::string_view> kSecurityHeaders[] = {
    {"Content-Security-Policy", kContentSecurityPolicy},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Cache-Control", "no-store"},
};

struct ServeSettings {
  std::string db_path;
  ListenAddress listen;
  std::string token;  // empty: no token asked (loopback with --no-token only)
};

class WebServer {
 public:
  explicit WebServer(ServeSettings settings);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // Binds the listening socket; the port bound (a free one for port 0).
  Result<int> Bind();
  // Serves on the bound socket until Stop(); call after Bind(), once.
  void Run();
  // Stops Run() from any thread and waits for it to return (at once if
  // Run was not called yet: it then returns without serving). A request
  // in progress is finished.
  void Stop();

 private:
  void Route();

  ServeSettings settings_;
  int port_ = 0;
  std::unique_ptr<httplib::Server> server_;
  // httplib's stop() does nothing before its listen loop has started, so
  // Stop() repeats it until Run() has returned.
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_finished_{false};
  std::atomic<bool> stop_requested_{false};
};

}  // namespace recorder::serve
