#include "serve/web_server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "investigate/investigation_db.h"
#include "serve/api_answer.h"
#include "serve/api_request.h"
#include "serve/web_assets.h"
#include "util/clock.h"

namespace recorder::serve {
namespace {

void Refuse(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(std::string(message) + "\n", "text/plain; charset=utf-8");
}

}  // namespace

WebServer::WebServer(ServeSettings settings)
    : settings_(std::move(settings)), server_(std::make_unique<httplib::Server>()) {
  httplib::Headers headers;
  for (const auto& [name, value] : kSecurityHeaders)
    headers.emplace(std::string(name), std::string(value));
  server_->set_default_headers(std::move(headers));
  server_->set_read_timeout(10, 0);
  server_->set_write_timeout(10, 0);
  server_->set_keep_alive_timeout(5);
  // GET requests have no body.
  server_->set_payload_max_length(4096);
  Route();
}

WebServer::~WebServer() = default;

Result<int> WebServer::Bind() {
  const std::string& host = settings_.listen.host;
  if (settings_.listen.port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ < 0) port_ = 0;
  } else if (server_->bind_to_port(host, settings_.listen.port)) {
    port_ = settings_.listen.port;
  }
  if (port_ <= 0)
    return Status::Errorf(StatusCode::kUnavailable,
                          "cannot listen on {} (in use, or not an "
                          "address of this machine)",
                          FormatHostPort(host, settings_.listen.port));
  return port_;
}

void WebServer::Run() {
  // Each of Run and Stop sets its own flag before reading the other's, so
  // at least one of them sees the other: a Stop before this point makes
  // Run return at once, a later one finds run_started_ and waits.
  run_started_ = true;
  if (!stop_requested_) server_->listen_after_bind();
  run_finished_ = true;
}

void WebServer::Stop() {
  stop_requested_ = true;
  while (run_started_ && !run_finished_) {
    server_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void WebServer::Route() {
  // Before any route: the method, the Host and the token, so that no
  // handler runs for a request that may not be answered.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using Handled = httplib::Server::HandlerResponse;
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      Refuse(res, 405, "only GET: the web view never changes the database");
      return Handled::Handled;
    }
    if (!HostAllowed(req.get_header_value("Host"), settings_.listen, port_)) {
      Refuse(res, 403, "this server answers to its own address only");
      return Handled::Handled;
    }
    // The URL printed at start carries the token once: it becomes a
    // cookie and the browser is sent to the bare page.
    if (req.path == "/" && req.has_param("token") && !settings_.token.empty()) {
      if (!ConstantTimeEquals(req.get_param_value("token"), settings_.token)) {
        Refuse(res, 401, "wrong token: open the URL recorder serve printed");
        return Handled::Handled;
      }
      res.set_header("Set-Cookie", TokenCookieName(port_) + "=" + settings_.token +
                                       "; Path=/; HttpOnly; SameSite=Strict");
      res.set_redirect("/", 303);
      return Handled::Handled;
    }
    if (!RequestCarriesToken(settings_.token, req.get_header_value("Authorization"),
                             req.get_header_value("Cookie"), port_)) {
      res.set_header("WWW-Authenticate", "Bearer");
      Refuse(res, 401,
             "a token is needed: open the URL recorder serve printed (…/?token=T), or send "
             "'Authorization: Bearer T'");
      return Handled::Handled;
    }
    return Handled::Unhandled;
  });

  server_->Get(R"(/api/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    ApiResponse answer;
    Result<ApiRequest> request = ParseApiRequest(req.path, req.params, WallMs());
    if (!request.ok()) {
      answer = ErrorResponse(request.status());
    } else {
      auto db = investigate::OpenInvestigationDb(settings_.db_path);
      answer = db.ok() ? AnswerApiRequest(**db, *request) : ErrorResponse(db.status());
    }
    res.status = answer.status;
    res.set_content(answer.body, "application/json");
  });

  server_->Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
    const WebAsset* asset = FindWebAsset(req.path);
    if (asset == nullptr) {
      Refuse(res, 404, "not found");
      return;
    }
    res.set_content(asset->body.data(), asset->body.size(),
                    std::string(ContentTypeFor(asset->path)));
  });
}

}  // namespace recorder::serve
