// DNS live (MonitorDNS): `recorder run --source unicast` with the setting
// on, a dnsmasq of our own on 127.0.0.77 and ::1 port 53 (fixed records,
// no upstream), and real clients — dig and host over UDP and TCP, IPv4
// and IPv6, and a Python resolver on a plain socket — each a process the
// rows must name: its pid, its exec's process_id, the query, type, rcode,
// addresses and CNAME chain. Also: `status` names the mechanism, and the
// BPF programs are gone from the cgroup root once the recorder stops (and
// never there with MonitorDNS off).
//
// Needs root, kernel audit, dnsmasq and dig (scripts/install-deps); skips
// (saying why) otherwise. dnsmasq is killed by its pid however the test
// ends; the guard restores the audit state.
#include "daemon/live_dns.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "enrich/socket_owners.h"
#include "live_support.h"
#include "normalize/dns_joiner.h"
#include "source/dns_capture.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-dnstest";
constexpr char kDnsmasq[] = "/usr/sbin/dnsmasq";
constexpr char kDig[] = "/usr/bin/dig";
constexpr char kHost[] = "/usr/bin/host";
constexpr char kPython[] = "/usr/bin/python3";
constexpr char kServer[] = "127.0.0.77";

// The test's name server's arguments, then `more`.
std::vector<std::string> DefaultArguments(const std::vector<std::string>& more) {
  std::vector<std::string> arguments = {"--no-resolv",
                                        "--listen-address=127.0.0.77",
                                        "--listen-address=::1",
                                        "--local-ttl=300",
                                        "--local=/test/",
                                        "--address=/a.test/192.0.2.10",
                                        "--address=/a.test/2001:db8::10",
                                        "--host-record=multi.test,192.0.2.21",
                                        "--host-record=multi.test,192.0.2.22",
                                        "--host-record=target.test,192.0.2.30,2001:db8::30",
                                        "--cname=alias.test,mid.test",
                                        "--cname=mid.test,target.test"};
  arguments.insert(arguments.end(), more.begin(), more.end());
  return arguments;
}

// dnsmasq in the foreground. By default the test's name server on
// 127.0.0.77 and ::1, answering only from its command line; given its own
// arguments, anything else (a forwarder).
class Dnsmasq {
 public:
  explicit Dnsmasq(const std::string& log) : Dnsmasq(log, kServer, DefaultArguments({})) {}
  // The default server with `more` arguments.
  Dnsmasq(const std::string& log, const std::vector<std::string>& more)
      : Dnsmasq(log, kServer, DefaultArguments(more)) {}
  // Listening on port 53 of the addresses `arguments` name; `address` is
  // the one Ready() asks.
  Dnsmasq(const std::string& log, std::string address, const std::vector<std::string>& arguments)
      : address_(std::move(address)) {
    std::vector<std::string> argv = {
        kDnsmasq,    "--keep-in-foreground", "--no-hosts", "--bind-interfaces",
        "--port=53", "--user=root",          "--pid-file="};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    pid_ = Spawn(argv, log);
  }
  ~Dnsmasq() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      if (WaitExit(pid_, 5s) < 0) kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  // Answers (it binds after it started).
  bool Ready() const {
    return WaitFor(
        [&] {
          return RunCapture(
                     fmt::format("{} +short +tries=1 +time=1 @{} ready.a.test", kDig, address_))
                     .find("192.0.2.10") != std::string::npos;
        },
        10s);
  }

 private:
  std::string address_;
  pid_t pid_ = -1;
};

std::string BpfOnCgroupRoot() {
  return RunCapture(
      "bpftool cgroup show /sys/fs/cgroup/unified 2>&1; "
      "bpftool cgroup show /sys/fs/cgroup 2>&1");
}

// Why a DNS test cannot run here ("" when it can): a tool it needs is
// missing, or something already listens on port 53, where the test's
// dnsmasq must be the one that answers.
std::string DnsSkipReason() {
  for (const char* tool : {kDnsmasq, kDig, kHost, kPython})
    if (!fs::exists(tool)) return std::string(tool) + " is not installed (scripts/install-deps)";
  if (!RunCapture("ss -Hlnup 'sport = :53'; ss -Hlntp 'sport = :53'").empty())
    return "something already listens on port 53";
  return "";
}

class LiveDns : public UnicastRecorderTest {
 protected:
  LiveDns() : UnicastRecorderTest(kTestKey) {}
  void SetUp() override {
    UnicastRecorderTest::SetUp();
    if (IsSkipped()) return;
    if (std::string skip = DnsSkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  }

  pid_t StartRecorder(bool dns) {
    return UnicastRecorderTest::StartRecorder(
        fmt::format(R"({{"MonitorDNS": {}}})", dns ? "true" : "false"));
  }

  // Runs argv to its end: its pid.
  pid_t Client(const std::vector<std::string>& argv) {
    pid_t pid = Spawn(argv, temp_.path() + "/clients.log");
    EXPECT_EQ(WaitExit(pid, 20s), 0) << argv[0] << " " << argv.back();
    return pid;
  }

  nlohmann::json Status() {
    std::string text =
        RunCapture(std::string(RECORDER_BINARY) + " status --json --state-dir " + StateDir());
    nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << text;
    return json;
  }

  // `columns` of the one dns_events row of `pid` asking `query`, waited
  // for; as many empty strings when none came.
  std::vector<std::string> DnsRow(Db& db, pid_t pid, const std::string& query,
                                  const std::string& columns) {
    std::vector<std::vector<std::string>> rows;
    const std::string sql = fmt::format("SELECT {} FROM dns_events WHERE pid = {} AND query = {}",
                                        columns, pid, Quote(query));
    EXPECT_TRUE(WaitFor([&] { return !(rows = db.Query(sql)).empty(); }, 20s))
        << query << " of pid " << pid << "\n"
        << ReadLog() << "\nall: "
        << nlohmann::json(db.Query("SELECT pid, query, type, transport, server_address, "
                                   "attribution FROM dns_events"))
               .dump()
        << "\nstatus: " << Status()["dns"].dump();
    EXPECT_LE(rows.size(), 1u) << query;
    const size_t n = static_cast<size_t>(std::count(columns.begin(), columns.end(), ',')) + 1;
    return rows.empty() ? std::vector<std::string>(n) : rows[0];
  }
  // The process_id of `pid`'s exec (its process row; of `exe`, when the
  // pid exec'd more than once), waited for.
  std::string ExecRow(Db& db, pid_t pid, const std::string& exe = "") {
    std::vector<std::vector<std::string>> rows;
    const std::string sql =
        fmt::format("SELECT process_id FROM processes WHERE pid = {} AND placeholder = 0{}", pid,
                    exe.empty() ? "" : " AND exe = " + Quote(exe));
    EXPECT_TRUE(WaitFor([&] { return !(rows = db.Query(sql)).empty(); }, 20s)) << pid;
    return rows.empty() ? std::string() : rows[0][0];
  }
};

// A Python resolver: one A query over UDP on a plain socket, the answer read.
constexpr char kPythonResolver[] = R"py(
import socket, struct, sys
name = sys.argv[1]
q = struct.pack(">HHHHHH", 0x5151, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, ("127.0.0.77", 53))
answer, _ = s.recvfrom(4096)
sys.exit(0 if answer[:2] == q[:2] else 1)
)py";

TEST_F(LiveDns, QueriesAreStoredWithTheirProcessesAndAnswers) {
  // many.test: 100 addresses, a ~1.7 KB answer (over TCP): a packet far
  // longer than a typical one is captured whole (the ring's records are
  // as long as their packet).
  std::vector<std::string> many;
  std::vector<std::string> many_addresses;
  for (int i = 1; i <= 100; ++i) {
    many_addresses.push_back(fmt::format("198.51.100.{}", i));
    many.push_back("--host-record=many.test," + many_addresses.back());
  }
  Dnsmasq server(temp_.path() + "/dnsmasq.log", many);
  ASSERT_GT(server.pid(), 0);
  pid_t recorder = StartRecorder(/*dns=*/true);
  ASSERT_TRUE(server.Ready()) << RunCapture("cat " + temp_.path() + "/dnsmasq.log");

  const nlohmann::json status = Status();
  ASSERT_EQ(status["dns"]["mechanism"], "cgroup-bpf") << status.dump(2) << ReadLog();
  EXPECT_NE(BpfOnCgroupRoot().find("dns_egress"), std::string::npos) << BpfOnCgroupRoot();

  const std::string at4 = std::string("@") + kServer;
  const pid_t a_udp = Client({kDig, "+tries=1", "+time=3", at4, "www.a.test", "A"});
  const pid_t aaaa_v6 = Client({kDig, "+tries=1", "+time=3", "@::1", "www.a.test", "AAAA"});
  const pid_t cname_tcp = Client({kDig, "+tcp", "+tries=1", "+time=3", at4, "alias.test", "A"});
  const pid_t nx = Client({kDig, "+tries=1", "+time=3", at4, "nothing.test", "A"});
  const pid_t tcp_v6 = Client({kDig, "+tcp", "+tries=1", "+time=3", "@::1", "target.test", "AAAA"});
  const pid_t host = Client({kHost, "-t", "A", "multi.test", kServer});
  const pid_t python = Client({kPython, "-S", "-c", kPythonResolver, "py.a.test"});
  const pid_t long_answer = Client({kDig, "+tcp", "+tries=1", "+time=3", at4, "many.test", "A"});

  Db db(DbPath());
  const std::string columns =
      "process_id, pid, exe, type, class, rcode, response, transport, family, server_address, "
      "server_port, response_seen, answers, latency_us";
  auto row = [&](pid_t pid, const std::string& query) { return DnsRow(db, pid, query, columns); };
  auto exec_row = [&](pid_t pid) { return ExecRow(db, pid); };

  std::vector<std::string> r = row(a_udp, "www.a.test");
  EXPECT_EQ(r[0], exec_row(a_udp)) << "the row belongs to dig's exec";
  EXPECT_EQ(r[2], fs::canonical(kDig).string());
  EXPECT_EQ(r[3], "A");
  EXPECT_EQ(r[4], "IN");
  EXPECT_EQ(r[5], "NOERROR");
  EXPECT_EQ(r[6], "192.0.2.10");
  EXPECT_EQ(r[7], "udp");
  EXPECT_EQ(r[8], "ipv4");
  EXPECT_EQ(r[9], kServer);
  EXPECT_EQ(r[10], "53");
  EXPECT_EQ(r[11], "1");
  EXPECT_FALSE(r[13].empty()) << "latency";

  r = row(aaaa_v6, "www.a.test");
  EXPECT_EQ(r[0], exec_row(aaaa_v6));
  EXPECT_EQ(r[3], "AAAA");
  EXPECT_EQ(r[6], "2001:db8::10");
  EXPECT_EQ(r[7], "udp");
  EXPECT_EQ(r[8], "ipv6");
  EXPECT_EQ(r[9], "::1");

  r = row(cname_tcp, "alias.test");
  EXPECT_EQ(r[0], exec_row(cname_tcp));
  EXPECT_EQ(r[7], "tcp");
  EXPECT_EQ(r[6], "192.0.2.30");
  nlohmann::json answers = nlohmann::json::parse(r[12], nullptr, false);
  ASSERT_TRUE(answers.is_array()) << r[12];
  ASSERT_EQ(answers.size(), 3u) << r[12];
  EXPECT_EQ(answers[0]["type"], "CNAME");
  EXPECT_EQ(answers[0]["data"], "mid.test");
  EXPECT_EQ(answers[1]["data"], "target.test");
  EXPECT_EQ(answers[2]["ttl"], 300);

  r = row(nx, "nothing.test");
  EXPECT_EQ(r[5], "NXDOMAIN");
  EXPECT_EQ(r[6], "");
  EXPECT_EQ(r[11], "1");

  r = row(tcp_v6, "target.test");
  EXPECT_EQ(r[7], "tcp");
  EXPECT_EQ(r[8], "ipv6");
  EXPECT_EQ(r[6], "2001:db8::30");

  r = row(host, "multi.test");
  EXPECT_EQ(r[0], exec_row(host));
  EXPECT_EQ(r[2], fs::canonical(kHost).string());
  EXPECT_TRUE(r[6] == "192.0.2.21, 192.0.2.22" || r[6] == "192.0.2.22, 192.0.2.21") << r[6];

  r = row(python, "py.a.test");
  EXPECT_EQ(r[0], exec_row(python));
  EXPECT_EQ(r[2], fs::canonical(kPython).string());
  EXPECT_EQ(r[6], "192.0.2.10");

  r = row(long_answer, "many.test");
  EXPECT_EQ(r[0], exec_row(long_answer));
  answers = nlohmann::json::parse(r[12], nullptr, false);
  ASSERT_TRUE(answers.is_array()) << r[12];
  std::vector<std::string> seen;
  for (const auto& answer : answers) seen.push_back(answer.value("data", ""));
  std::sort(seen.begin(), seen.end());
  std::sort(many_addresses.begin(), many_addresses.end());
  EXPECT_EQ(seen, many_addresses) << "the long answer was cut: " << seen.size() << " of 100";

  // dnsmasq's own side of these exchanges is not a query of its own.
  EXPECT_EQ(
      db.Query(fmt::format("SELECT count(*) FROM dns_events WHERE pid = {}", server.pid()))[0][0],
      "0");

  StopRecorder(recorder);
  EXPECT_EQ(BpfOnCgroupRoot().find("dns_"), std::string::npos)
      << "the programs stay attached after the stop:\n"
      << BpfOnCgroupRoot();
}

// A local caching resolver (dnsmasq forwarding, as systemd-resolved or a
// distribution's dnsmasq do): the client's query to it is the client's,
// and the resolver's own query upstream is the resolver's, both stored
// with the answer. The forwarder starts after the recorder, so its exec
// is recorded and its row is the one the upstream query joins to.
TEST_F(LiveDns, ACachingResolverAndItsClientAreBothRecorded) {
  constexpr char kForwarder[] = "127.0.0.79";
  constexpr char kEarlyForwarder[] = "127.0.0.80";
  Dnsmasq upstream(temp_.path() + "/dnsmasq.log");
  ASSERT_GT(upstream.pid(), 0);
  // A resolver that was running before the recorder, sending every
  // upstream query from one socket it opened then (--query-port): no BPF
  // hook saw that socket created.
  Dnsmasq early(temp_.path() + "/early.log", kEarlyForwarder,
                {"--no-resolv", fmt::format("--listen-address={}", kEarlyForwarder),
                 fmt::format("--server={}", kServer), "--query-port=5399"});
  ASSERT_GT(early.pid(), 0);
  ASSERT_TRUE(early.Ready()) << RunCapture("cat " + temp_.path() + "/early.log");
  pid_t recorder = StartRecorder(/*dns=*/true);
  ASSERT_TRUE(upstream.Ready()) << RunCapture("cat " + temp_.path() + "/dnsmasq.log");
  Dnsmasq forwarder(temp_.path() + "/forwarder.log", kForwarder,
                    {"--no-resolv", fmt::format("--listen-address={}", kForwarder),
                     fmt::format("--server={}", kServer), "--cache-size=100"});
  ASSERT_GT(forwarder.pid(), 0);
  ASSERT_TRUE(forwarder.Ready()) << RunCapture("cat " + temp_.path() + "/forwarder.log");

  const pid_t dig =
      Client({kDig, "+tries=1", "+time=3", std::string("@") + kForwarder, "cached.a.test", "A"});
  // Asked again: answered from the forwarder's cache, so only the client asks.
  const pid_t again =
      Client({kDig, "+tries=1", "+time=3", std::string("@") + kForwarder, "cached.a.test", "A"});

  Db db(DbPath());
  const std::string columns =
      "process_id, exe, server_address, server_port, response, rcode, attribution";
  std::vector<std::string> client = DnsRow(db, dig, "cached.a.test", columns);
  EXPECT_EQ(client[0], ExecRow(db, dig)) << "the client's query belongs to dig's exec";
  EXPECT_EQ(client[1], fs::canonical(kDig).string());
  EXPECT_EQ(client[2], kForwarder);
  EXPECT_EQ(client[3], "53");
  EXPECT_EQ(client[4], "192.0.2.10");
  EXPECT_EQ(client[5], "NOERROR");
  EXPECT_EQ(client[6], "socket");

  std::vector<std::string> resolver = DnsRow(db, forwarder.pid(), "cached.a.test", columns);
  EXPECT_EQ(resolver[0], ExecRow(db, forwarder.pid()))
      << "the upstream query belongs to the forwarder's exec";
  EXPECT_EQ(resolver[1], fs::canonical(kDnsmasq).string());
  EXPECT_EQ(resolver[2], kServer);
  EXPECT_EQ(resolver[3], "53");
  EXPECT_EQ(resolver[4], "192.0.2.10");
  EXPECT_EQ(resolver[5], "NOERROR");
  EXPECT_EQ(resolver[6], "socket");

  std::vector<std::string> cached = DnsRow(db, again, "cached.a.test", columns);
  EXPECT_EQ(cached[2], kForwarder);
  EXPECT_EQ(cached[4], "192.0.2.10");
  EXPECT_EQ(db.Query("SELECT count(*) FROM dns_events WHERE query = 'cached.a.test'")[0][0], "3")
      << "two clients' queries and one upstream query, nothing from the servers' side";

  const pid_t late_client = Client(
      {kDig, "+tries=1", "+time=3", std::string("@") + kEarlyForwarder, "early.a.test", "A"});
  std::vector<std::string> old_socket = DnsRow(db, early.pid(), "early.a.test", columns);
  EXPECT_EQ(old_socket[2], kServer) << "the early resolver's upstream query";
  EXPECT_EQ(old_socket[4], "192.0.2.10");
  EXPECT_TRUE(old_socket[6] == "socket" || old_socket[6] == "local_port") << old_socket[6];
  EXPECT_EQ(DnsRow(db, late_client, "early.a.test", columns)[2], kEarlyForwarder);
  StopRecorder(recorder);
}

// The C library's resolver, as most programs use it: `getent hosts`
// reads /etc/resolv.conf, which names our dnsmasq inside a mount
// namespace of its own (unshare -m; the machine's file is not touched).
// unshare and sh exec in place, so the pid is getent's. Over UDP and IPv4,
// over TCP (`options use-vc`: both questions on one connection) and over
// IPv6 (`nameserver ::1`).
TEST_F(LiveDns, TheGlibcResolverIsAttributedToGetent) {
  for (const char* tool : {"/usr/bin/getent", "/usr/bin/unshare"})
    if (!fs::exists(tool)) GTEST_SKIP() << tool << " is not installed";
  Dnsmasq server(temp_.path() + "/dnsmasq.log");
  ASSERT_GT(server.pid(), 0);
  pid_t recorder = StartRecorder(/*dns=*/true);
  ASSERT_TRUE(server.Ready()) << RunCapture("cat " + temp_.path() + "/dnsmasq.log");

  struct Case {
    std::string name, resolv_conf, transport, family, server;
  };
  const std::vector<Case> cases = {
      {"getent.a.test", fmt::format("nameserver {}\n", kServer), "udp", "ipv4", kServer},
      {"vc.a.test", fmt::format("nameserver {}\noptions use-vc\n", kServer), "tcp", "ipv4",
       kServer},
      {"v6.a.test", "nameserver ::1\n", "udp", "ipv6", "::1"},
  };
  Db db(DbPath());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string resolv = temp_.path() + "/resolv-" + c.name;
    std::ofstream(resolv) << c.resolv_conf << "options timeout:2 attempts:1\n";
    const pid_t getent = Client({"/usr/bin/unshare", "-m", "/bin/sh", "-c",
                                 "mount --bind \"$0\" /etc/resolv.conf && exec /usr/bin/getent "
                                 "hosts \"$1\"",
                                 resolv, c.name});
    std::vector<std::vector<std::string>> rows;
    const std::string sql = fmt::format(
        "SELECT process_id, exe, response, attribution, rcode, transport, family, "
        "server_address FROM dns_events WHERE pid = {} AND query = {}",
        getent, Quote(c.name));
    EXPECT_TRUE(WaitFor([&] { return !(rows = db.Query(sql)).empty(); }, 20s))
        << ReadLog() << "\nall: "
        << nlohmann::json(db.Query("SELECT pid, exe, query, type, transport FROM dns_events"))
               .dump()
        << RunCapture("cat " + temp_.path() + "/clients.log");
    const std::string exec = ExecRow(db, getent, "/usr/bin/getent");
    for (const std::vector<std::string>& r : rows) {
      EXPECT_EQ(r[0], exec) << "the query belongs to getent's exec";
      EXPECT_EQ(r[1], "/usr/bin/getent");
      EXPECT_EQ(r[3], "socket");
      EXPECT_EQ(r[4], "NOERROR");
      EXPECT_TRUE(r[2] == "192.0.2.10" || r[2] == "2001:db8::10") << r[2];
      EXPECT_EQ(r[5], c.transport);
      EXPECT_EQ(r[6], c.family);
      EXPECT_EQ(r[7], c.server);
    }
  }
  StopRecorder(recorder);
}

// DNS queries go through the filters like audit events: a `dns` rule on
// the query name leaves those queries out (counted in the run), the rest
// are stored.
TEST_F(LiveDns, DnsFiltersLeaveQueriesOut) {
  Dnsmasq server(temp_.path() + "/dnsmasq.log");
  ASSERT_GT(server.pid(), 0);
  std::ofstream(temp_.path() + "/config/filters.json")
      << R"({"dns": {"exclude": [{"query": {"glob": "*.hidden.a.test"}}]}})";
  pid_t recorder = StartRecorder(/*dns=*/true);
  ASSERT_TRUE(server.Ready()) << RunCapture("cat " + temp_.path() + "/dnsmasq.log");
  const std::string at4 = std::string("@") + kServer;
  const pid_t hidden = Client({kDig, "+tries=1", "+time=3", at4, "x.hidden.a.test", "A"});
  const pid_t shown = Client({kDig, "+tries=1", "+time=3", at4, "x.shown.a.test", "A"});

  Db db(DbPath());
  EXPECT_TRUE(WaitFor(
      [&] {
        return !db.Query(fmt::format("SELECT 1 FROM dns_events WHERE pid = {}", shown)).empty();
      },
      20s))
      << ReadLog();
  StopRecorder(recorder);
  EXPECT_EQ(db.Query(fmt::format("SELECT count(*) FROM dns_events WHERE pid = {} OR query = "
                                 "'x.hidden.a.test'",
                                 hidden))[0][0],
            "0");
  EXPECT_EQ(db.Query("SELECT query FROM dns_events WHERE query LIKE 'x.%'"),
            (std::vector<std::vector<std::string>>{{"x.shown.a.test"}}));
  EXPECT_GE(std::stoi(db.Query("SELECT filtered_out_dns FROM runs ORDER BY run_id DESC "
                               "LIMIT 1")[0][0]),
            1);
}

TEST_F(LiveDns, OffAttachesNothing) {
  pid_t recorder = StartRecorder(/*dns=*/false);
  EXPECT_EQ(BpfOnCgroupRoot().find("dns_"), std::string::npos) << BpfOnCgroupRoot();
  const nlohmann::json status = Status();
  EXPECT_EQ(status["dns"]["enabled"], false) << status.dump(2);
  EXPECT_EQ(status["dns"]["mechanism"], "none");
  StopRecorder(recorder);
}

// The capture driven directly (no recorder, no audit) with BPF not
// allowed, so through the packet socket, beside a dnsmasq of its own.
class LivePacketSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (AF_PACKET)";
    if (std::string skip = DnsSkipReason(); !skip.empty()) GTEST_SKIP() << skip;
    server_.emplace(temp_.path() + "/dnsmasq.log");
    ASSERT_TRUE(server_->Ready());
    options_.allow_bpf = false;
  }

  TempDir temp_;
  std::optional<Dnsmasq> server_;
  source::DnsCaptureOptions options_;
};

// Where BPF cannot load, the packet socket sees the same exchanges with
// the process unknown (pid 0), never guessed: the capture and the joiner.
TEST_F(LivePacketSocket, FallbackSeesQueriesWithoutProcess) {
  source::DnsCapture capture(options_);
  ASSERT_TRUE(capture.Start().ok());
  EXPECT_EQ(capture.mechanism(), source::DnsCaptureMechanism::kPacketSocket);
  EXPECT_EQ(source::DnsCaptureMechanismName(capture.mechanism()), "packet-socket");
  pid_t dig = Spawn({kDig, "+tries=1", "+time=3", std::string("@") + kServer, "fallback.a.test"});
  ASSERT_EQ(WaitExit(dig, 20s), 0);
  DnsJoiner joiner;
  std::vector<TypedEvent> events;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const source::CapturedDnsPacket& p : capture.Take())
          joiner.Add(daemon::JoinerPacket(p), &events);
        return !events.empty();
      },
      10s));
  capture.Stop();
  const auto& d = std::get<DnsEvent>(events[0].body);
  EXPECT_EQ(d.query, "fallback.a.test");
  EXPECT_TRUE(d.response_seen);
  ASSERT_EQ(d.answers.size(), 1u);
  EXPECT_EQ(d.answers[0].data, "192.0.2.10");
  EXPECT_EQ(events[0].subject.pid, 0) << "the packet socket cannot tell the process";
}

// The packet socket attributes a query by its source port: the socket on
// that port (sock_diag), then the process holding it (/proc/PID/fd), as
// the daemon wires it (daemon/live_dns.cc). A Python resolver holding its
// socket is named; a query sent from a raw socket (no UDP socket has its
// port) is counted unattributed and stays pid 0.
constexpr char kHoldingResolver[] = R"py(
import socket, struct, sys, time
name = sys.argv[1]
q = struct.pack(">HHHHHH", 0x5252, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
if sys.argv[2] == "raw":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.sendto(struct.pack(">HHHH", 40999, 53, 8 + len(q), 0) + q, ("127.0.0.77", 0))
    sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(q, ("127.0.0.77", 53))
answer, _ = s.recvfrom(4096)
time.sleep(1)
sys.exit(0 if answer[:2] == q[:2] else 1)
)py";

// The fallback in a whole recorder: `dnsCapture: packet-socket` loads no
// BPF, status says the packet socket runs, and queries are stored with
// the process that holds the sending socket (attribution 'local_port').
// dig may have exited before its source port is looked up: then its row
// has no process ('none'), and never another's. The Python resolver
// holds its socket a second, so it is always named.
TEST_F(LiveDns, ThePacketSocketFallbackRecordsQueriesByTheirSourcePort) {
  Dnsmasq server(temp_.path() + "/dnsmasq.log");
  ASSERT_GT(server.pid(), 0);
  pid_t recorder =
      UnicastRecorderTest::StartRecorder(R"({"MonitorDNS": true, "dnsCapture": "packet-socket"})");
  ASSERT_TRUE(server.Ready()) << RunCapture("cat " + temp_.path() + "/dnsmasq.log");
  const nlohmann::json status = Status();
  EXPECT_EQ(status["dns"]["mechanism"], "packet-socket") << status.dump(2) << ReadLog();
  EXPECT_EQ(status["dns"]["setting"], "packet-socket");
  EXPECT_FALSE(status["dns"].contains("error")) << "BPF was not tried, so it did not fail";
  EXPECT_EQ(BpfOnCgroupRoot().find("dns_"), std::string::npos) << BpfOnCgroupRoot();
  EXPECT_NE(RunCapture(std::string(RECORDER_BINARY) + " status --state-dir " + StateDir())
                .find("DNS: packet-socket (processes by their source port)"),
            std::string::npos);

  const pid_t dig =
      Client({kDig, "+tries=1", "+time=3", std::string("@") + kServer, "fallback.a.test", "A"});
  const pid_t python = Client({kPython, "-S", "-c", kHoldingResolver, "held.a.test", "udp"});

  Db db(DbPath());
  const std::string columns = "process_id, pid, attribution, response, server_address";
  std::vector<std::vector<std::string>> rows;
  EXPECT_TRUE(WaitFor(
      [&] {
        rows = db.Query(
            fmt::format("SELECT {} FROM dns_events WHERE query = 'fallback.a.test'", columns));
        return !rows.empty();
      },
      20s))
      << ReadLog();
  ASSERT_EQ(rows.size(), 1u);
  const std::vector<std::string>& d = rows[0];
  if (d[2] == "local_port") {
    EXPECT_EQ(d[1], std::to_string(dig)) << "named by its port, so dig";
    EXPECT_EQ(d[0], ExecRow(db, dig));
  } else {
    EXPECT_EQ(d[2], "none");
    EXPECT_EQ(d[1], "<null>") << "not named, so not guessed";
    EXPECT_EQ(d[0], "<null>");
  }
  EXPECT_EQ(d[3], "192.0.2.10");
  EXPECT_EQ(d[4], kServer);

  std::vector<std::string> held = DnsRow(db, python, "held.a.test", columns);
  EXPECT_EQ(held[0], ExecRow(db, python));
  EXPECT_EQ(held[2], "local_port");
  EXPECT_EQ(held[3], "192.0.2.10");
  StopRecorder(recorder);
  EXPECT_GE(std::stoi(db.Query("SELECT dns_events FROM runs ORDER BY run_id DESC LIMIT 1")[0][0]),
            2);
}

TEST_F(LivePacketSocket, AttributesQueriesByTheirSourcePort) {
  auto owners = std::make_shared<enrich::SocketOwners>();
  options_.attribute = [owners](const source::CapturedDnsPacket& p) {
    return owners->PidOf(p.ipv6 ? AddressFamily::kInet6 : AddressFamily::kInet,
                         p.tcp ? NetworkProtocol::kTcp : NetworkProtocol::kUdp, p.source_address,
                         p.source_port, p.destination_address, p.destination_port,
                         static_cast<int64_t>(p.mono_ns / 1'000'000));
  };
  source::DnsCapture capture(options_);
  ASSERT_TRUE(capture.Start().ok());
  ASSERT_EQ(capture.mechanism(), source::DnsCaptureMechanism::kPacketSocket);
  const pid_t named = Spawn({kPython, "-S", "-c", kHoldingResolver, "named.a.test", "udp"});
  ASSERT_EQ(WaitExit(named, 20s), 0);
  const pid_t raw = Spawn({kPython, "-S", "-c", kHoldingResolver, "raw.a.test", "raw"});
  ASSERT_EQ(WaitExit(raw, 20s), 0);

  DnsJoiner joiner;
  std::vector<TypedEvent> events;
  auto drain = [&] {
    for (const source::CapturedDnsPacket& p : capture.Take())
      joiner.Add(daemon::JoinerPacket(p), &events);
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        drain();
        return !events.empty();
      },
      10s));
  drain();
  capture.Stop();
  joiner.Flush(&events);  // the raw query's answer went to no socket
  std::map<std::string, const TypedEvent*> by_name;
  for (const TypedEvent& e : events) by_name[std::get<DnsEvent>(e.body).query] = &e;
  ASSERT_TRUE(by_name.count("named.a.test"));
  ASSERT_TRUE(by_name.count("raw.a.test"));
  const TypedEvent& n = *by_name["named.a.test"];
  EXPECT_EQ(n.subject.pid, named);
  EXPECT_EQ(std::get<DnsEvent>(n.body).attribution, DnsAttribution::kLocalPort);
  EXPECT_TRUE(std::get<DnsEvent>(n.body).response_seen);
  const TypedEvent& r = *by_name["raw.a.test"];
  EXPECT_EQ(r.subject.pid, 0) << "no socket has its port: not guessed";
  EXPECT_EQ(std::get<DnsEvent>(r.body).attribution, DnsAttribution::kNone);
  EXPECT_GE(capture.stats().attributed, 1u);
  EXPECT_GE(capture.stats().unattributed, 1u);
}

TEST(LiveDnsCapture, CgroupV2MountFromProcMounts) {
  EXPECT_EQ(source::CgroupV2Mount("tmpfs /sys/fs/cgroup tmpfs rw 0 0\n"
                                  "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n"),
            "/sys/fs/cgroup/unified");
  EXPECT_EQ(source::CgroupV2Mount("cgroup2 /a\\040b cgroup2 rw 0 0\n"), "/a b");
  EXPECT_EQ(source::CgroupV2Mount("cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"), "");
}

}  // namespace
}  // namespace recorder
