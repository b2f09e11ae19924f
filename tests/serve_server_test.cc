// recorder serve's HTTP server in this process, on an ephemeral loopback
// port, asked with httplib's client: every response carries the security
// headers (200, 303, 400, 401, 403, 404, 405), the token is checked on
// every request, and the API answers exactly as `recorder tree/show/
// timeline/search --json` do on the same database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <thread>

#include "recorder_cli.h"
#include "serve/web_server.h"
#include "temp_dir.h"

namespace recorder::serve {
namespace {

using ::testing::HasSubstr;
constexpr auto Quote = &recorder::ShellQuote;
const std::string kToken = "test-token-0123456789";
constexpr std::string_view kMarker = "recorder-golden-su-nobody";

class ServeServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { recorder::ReplayCaptureOnce("recorder-serve-test", &temp_, &db_); }
  static void TearDownTestSuite() {
    delete temp_;
    temp_ = nullptr;
  }

  void SetUp() override { Start(kToken); }
  void TearDown() override { Stop(); }

  void Start(const std::string& token) {
    Result<ListenAddress> listen = ParseListenAddress("127.0.0.1:0");
    ASSERT_TRUE(listen.ok());
    server_ = std::make_unique<WebServer>(ServeSettings{db_, *listen, token});
    Result<int> port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().message();
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_connection_timeout(5);
    client_->set_read_timeout(10);
  }
  void Stop() {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  httplib::Headers Bearer() const { return {{"Authorization", "Bearer " + kToken}}; }

  httplib::Result Get(const std::string& path, const httplib::Headers& headers) {
    return client_->Get(path, headers);
  }

  static nlohmann::json CliJson(const std::string& args) {
    RecorderRun run = RunRecorderApart(args + " --json --db " + Quote(db_), temp_->File("err"));
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return nlohmann::json::parse(run.text, nullptr, false);
  }

  nlohmann::json ApiJson(const std::string& path) {
    httplib::Result res = Get(path, Bearer());
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
    return nlohmann::json::parse(res->body, nullptr, false);
  }

  static TempDir* temp_;
  static std::string db_;
  std::unique_ptr<WebServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  int port_ = 0;
};
TempDir* ServeServerTest::temp_ = nullptr;
std::string ServeServerTest::db_;

void ExpectSecurityHeaders(const httplib::Response& res, const std::string& what) {
  EXPECT_EQ(res.get_header_value("Content-Security-Policy"), kContentSecurityPolicy) << what;
  EXPECT_EQ(res.get_header_value("X-Content-Type-Options"), "nosniff") << what;
  EXPECT_EQ(res.get_header_value("Referrer-Policy"), "no-referrer") << what;
  EXPECT_EQ(res.get_header_value("X-Frame-Options"), "DENY") << what;
}

TEST_F(ServeServerTest, EveryResponseCarriesTheSecurityHeaders) {
  struct Case {
    std::string method, path;
    bool token;
    int status;
  };
  const std::string marker(kMarker);
  const Case cases[] = {
      {"GET", "/", true, 200},
      {"GET", "/app.js", true, 200},
      {"GET", "/app.css", true, 200},
      {"HEAD", "/", true, 200},
      {"GET", "/api/search?q=" + marker, true, 200},
      {"GET", "/?token=" + kToken, false, 303},
      {"GET", "/?token=wrong-token-0123456789", false, 401},
      {"GET", "/", false, 401},
      {"GET", "/api/search?q=" + marker, false, 401},
      {"GET", "/api/tree?process=x", true, 400},
      {"GET", "/api/tree?process=999999", true, 404},
      {"GET", "/api/nothing", true, 404},
      {"GET", "/etc/passwd", true, 404},
      {"POST", "/api/search?q=x", true, 405},
      {"DELETE", "/", true, 405},
      {"PUT", "/", false, 405},
  };
  for (const Case& c : cases) {
    const std::string what = c.method + " " + c.path;
    httplib::Request req;
    req.method = c.method;
    req.path = c.path;
    if (c.token) req.headers = Bearer();
    httplib::Result res = client_->send(req);
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->status, c.status) << what << ": " << res->body;
    ExpectSecurityHeaders(*res, what);
  }
}

TEST_F(ServeServerTest, TheUrlsTokenBecomesTheCookieThatAdmitsThePage) {
  httplib::Result res = Get("/?token=" + kToken, {});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 303);
  EXPECT_EQ(res->get_header_value("Location"), "/");
  const std::string cookie = res->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("recorder_token_" + std::to_string(port_) + "=" + kToken));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  httplib::Result page = Get("/", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<script src=\"/app.js\""));
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  // A cookie of another port's server is not this one's.
  httplib::Result other = Get("/", {{"Cookie", "recorder_token_1=" + kToken}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 401);
}

TEST_F(ServeServerTest, AForeignHostIsRefusedOnLoopback) {
  httplib::Headers headers = Bearer();
  headers.emplace("Host", "rebound.example:" + std::to_string(port_));
  httplib::Result res = Get("/api/search?q=x", headers);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
}

TEST_F(ServeServerTest, WithoutATokenEveryRequestIsAdmitted) {
  Stop();
  Start("");
  httplib::Result res = Get("/api/search?q=x", {});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  ExpectSecurityHeaders(*res, "no token");
}

TEST_F(ServeServerTest, TheApiAnswersAsTheCommandsDo) {
  const std::string marker(kMarker);
  EXPECT_EQ(ApiJson("/api/tree?process=53&depth=20"), CliJson("tree 53 --depth 20"));
  EXPECT_EQ(ApiJson("/api/search?q=" + marker + "&limit=20"), CliJson("search " + marker));
  EXPECT_EQ(ApiJson("/api/timeline?limit=7&kind=file,network"),
            CliJson("timeline --limit 7 --kind file,network"));
  nlohmann::json first = ApiJson("/api/timeline?limit=7");
  ASSERT_TRUE(first["next"].is_string());
  EXPECT_EQ(ApiJson("/api/timeline?limit=7&after=" + first["next"].get<std::string>()),
            CliJson("timeline --limit 7 --after " + first["next"].get<std::string>()));

  nlohmann::json show = ApiJson("/api/show?process=53&limit=1000");
  EXPECT_EQ(show["activity_page"],
            nlohmann::json(
                {{"offset", 0}, {"total", show["activity"].size()}, {"next_offset", nullptr}}));
  show.erase("activity_page");
  EXPECT_EQ(show, CliJson("show 53"));
}

TEST_F(ServeServerTest, ShowSendsItsActivityInPages) {
  nlohmann::json all = ApiJson("/api/show?process=53&limit=1000");
  const size_t total = all["activity"].size();
  ASSERT_GE(total, 3u);
  nlohmann::json page = ApiJson("/api/show?process=53&offset=1&limit=1");
  ASSERT_EQ(page["activity"].size(), 1u);
  EXPECT_EQ(page["activity"][0], all["activity"][1]);
  EXPECT_EQ(page["activity_page"]["next_offset"], 2);
  EXPECT_EQ(page["activity_page"]["total"], total);
  nlohmann::json past = ApiJson("/api/show?process=53&offset=100000");
  EXPECT_TRUE(past["activity"].empty());
  EXPECT_TRUE(past["activity_page"]["next_offset"].is_null());
}

int64_t EventsOf(const nlohmann::json& page) { return static_cast<int64_t>(page["events"].size()); }

TEST_F(ServeServerTest, TheHistogramCountsTheTimelinesEvents) {
  for (const std::string filter : {"", "kind=file", "kind=process&user=65534"}) {
    nlohmann::json histogram = ApiJson("/api/histogram?" + filter);
    nlohmann::json timeline = ApiJson("/api/timeline?limit=1000&" + filter);
    ASSERT_TRUE(timeline["next"].is_null()) << "the capture has fewer than 1000 events";
    const auto counts = histogram["counts"].get<std::vector<int64_t>>();
    EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), int64_t{0}), EventsOf(timeline))
        << filter;
    ASSERT_FALSE(counts.empty()) << filter;
    // The first and last buckets hold the first and last events.
    const int64_t start = histogram["start"], width = histogram["bucket_ms"];
    EXPECT_EQ((timeline["events"].front()["time"].get<int64_t>() - start) / width, 0);
    EXPECT_EQ((timeline["events"].back()["time"].get<int64_t>() - start) / width,
              static_cast<int64_t>(counts.size()) - 1);
  }
  // A range: only the events in it.
  nlohmann::json part = ApiJson("/api/histogram?since=1795629433.0&until=1795629433.999");
  nlohmann::json events =
      ApiJson("/api/timeline?limit=1000&since=1795629433.0&until=1795629433.999");
  const auto counts = part["counts"].get<std::vector<int64_t>>();
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), int64_t{0}), EventsOf(events));
  EXPECT_GT(EventsOf(events), 0);
}

TEST_F(ServeServerTest, ErrorsAreJsonWithTheReason) {
  httplib::Result res = Get("/api/timeline?since=soon", Bearer());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
  EXPECT_THAT(body["error"].get<std::string>(), HasSubstr("bad since: "));
  res = Get("/api/show?process=999999", Bearer());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_THAT(res->body, HasSubstr("no process with process_id 999999"));
}

}  // namespace
}  // namespace recorder::serve
