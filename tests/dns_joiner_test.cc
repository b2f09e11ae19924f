// The DNS query/answer joiner on the messages captured from dnsmasq
// (tests/data/dns): pairing, latency, timeouts, the bound, the server's
// own side skipped, TCP reassembly with retransmissions and gaps.
#include "normalize/dns_joiner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace recorder {
namespace {

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/dns/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

constexpr uint64_t kMs = 1'000'000;

DnsPacket Packet(const std::string& payload, bool egress, uint64_t mono_ns, uint64_t cookie = 7,
                 uint16_t local_port = 40000) {
  DnsPacket p;
  p.wall_ms = 1'700'000'000'000 + static_cast<int64_t>(mono_ns / kMs);
  p.mono_ns = mono_ns;
  p.socket_cookie = cookie;
  p.pid = 4242;
  p.egress = egress;
  p.local_address = "127.0.0.1";
  p.local_port = local_port;
  p.remote_address = "127.0.0.77";
  p.remote_port = 53;
  p.payload = payload;
  return p;
}

TEST(DnsJoiner, QueryAndAnswerMakeOneEvent) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  const std::string q = Sample("cname_chain_udp.query.bin");
  const std::string r = Sample("cname_chain_udp.response.bin");
  joiner.Add(Packet(q, true, 10 * kMs), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(joiner.pending(), 1u);
  joiner.Add(Packet(r, false, 13 * kMs), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(joiner.pending(), 0u);
  const TypedEvent& e = out[0];
  EXPECT_EQ(e.subject.pid, 4242);
  EXPECT_EQ(e.header.time_ms, 1'700'000'000'010);
  const auto& d = std::get<DnsEvent>(e.body);
  EXPECT_EQ(d.query, "alias.test");
  EXPECT_EQ(d.query_type, 1);
  EXPECT_EQ(d.query_class, 1);
  EXPECT_TRUE(d.response_seen);
  EXPECT_EQ(d.rcode, 0);
  EXPECT_EQ(d.latency_us, 3000);
  EXPECT_EQ(d.server_address, "127.0.0.77");
  EXPECT_EQ(d.server_port, 53);
  ASSERT_EQ(d.answers.size(), 3u);
  EXPECT_EQ(d.answers[0], (DnsAnswerRecord{"alias.test", 5, 300, "mid.test"}));
  EXPECT_EQ(d.answers[2], (DnsAnswerRecord{"target.test", 1, 300, "192.0.2.30"}));
}

// How the process was found goes with it; no process is "none" whatever
// the capture said, and an answer read by a known process names it.
TEST(DnsJoiner, AttributionFollowsThePid) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  const std::string q = Sample("cname_chain_udp.query.bin");
  const std::string r = Sample("cname_chain_udp.response.bin");
  DnsPacket query = Packet(q, true, 10 * kMs);
  query.attribution = DnsAttribution::kLocalPort;
  joiner.Add(query, &out);
  joiner.Add(Packet(r, false, 11 * kMs), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<DnsEvent>(out[0].body).attribution, DnsAttribution::kLocalPort);

  out.clear();
  query = Packet(q, true, 20 * kMs, 8);
  query.pid = 0;
  joiner.Add(query, &out);
  DnsPacket answer = Packet(r, false, 21 * kMs, 8);
  answer.pid = 0;
  joiner.Add(answer, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject.pid, 0);
  EXPECT_EQ(std::get<DnsEvent>(out[0].body).attribution, DnsAttribution::kNone);

  out.clear();
  query = Packet(q, true, 30 * kMs, 9);
  query.pid = 0;
  joiner.Add(query, &out);
  joiner.Add(Packet(r, false, 31 * kMs, 9), &out);  // read by pid 4242's socket
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject.pid, 4242);
  EXPECT_EQ(std::get<DnsEvent>(out[0].body).attribution, DnsAttribution::kSocket);
}

TEST(DnsJoiner, AnswerOnAnotherSocketDoesNotMatch) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  joiner.Add(Packet(Sample("a_udp.query.bin"), true, 0), &out);
  joiner.Add(Packet(Sample("a_udp.response.bin"), false, kMs, /*cookie=*/8), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(joiner.stats().unmatched_responses, 1u);
}

TEST(DnsJoiner, NoResponseAfterTimeout) {
  DnsJoinerOptions options;
  options.response_timeout_ns = 100 * kMs;
  DnsJoiner joiner(options);
  std::vector<TypedEvent> out;
  joiner.Add(Packet(Sample("nxdomain_udp.query.bin"), true, 0), &out);
  joiner.Expire(99 * kMs, &out);
  EXPECT_TRUE(out.empty());
  joiner.Expire(100 * kMs, &out);
  ASSERT_EQ(out.size(), 1u);
  const auto& d = std::get<DnsEvent>(out[0].body);
  EXPECT_EQ(d.query, "nothing.test");
  EXPECT_FALSE(d.response_seen);
  EXPECT_EQ(d.latency_us, -1);
  EXPECT_EQ(joiner.stats().unanswered, 1u);
  // The late answer finds nothing.
  joiner.Add(Packet(Sample("nxdomain_udp.response.bin"), false, 150 * kMs), &out);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(joiner.stats().unmatched_responses, 1u);
}

TEST(DnsJoiner, Nxdomain) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  joiner.Add(Packet(Sample("nxdomain_udp.query.bin"), true, 0), &out);
  joiner.Add(Packet(Sample("nxdomain_udp.response.bin"), false, kMs), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<DnsEvent>(out[0].body).rcode, 3);
  EXPECT_TRUE(std::get<DnsEvent>(out[0].body).answers.empty());
}

TEST(DnsJoiner, PendingIsBounded) {
  DnsJoinerOptions options;
  options.max_pending = 3;
  DnsJoiner joiner(options);
  std::vector<TypedEvent> out;
  const std::string q = Sample("a_udp.query.bin");
  for (uint16_t port = 1; port <= 5; ++port) joiner.Add(Packet(q, true, port * kMs, 7, port), &out);
  EXPECT_EQ(joiner.pending(), 3u);
  EXPECT_EQ(joiner.stats().evicted, 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].header.time_ms % 1000, 1);  // the oldest went first
  joiner.Flush(&out);
  EXPECT_EQ(out.size(), 5u);
  EXPECT_EQ(joiner.pending(), 0u);
}

TEST(DnsJoiner, ServerSideAndRetriesSkipped) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  const std::string q = Sample("a_udp.query.bin");
  // dnsmasq's socket receiving the query: local port 53.
  DnsPacket server = Packet(q, false, 0);
  server.local_port = 53;
  server.remote_port = 40000;
  joiner.Add(server, &out);
  EXPECT_EQ(joiner.stats().server_side, 1u);
  joiner.Add(Packet(q, true, 0), &out);
  joiner.Add(Packet(q, true, kMs), &out);
  EXPECT_EQ(joiner.stats().duplicate_queries, 1u);
  EXPECT_EQ(joiner.pending(), 1u);
  joiner.Add(Packet("garbage", true, kMs), &out);
  EXPECT_EQ(joiner.stats().malformed, 1u);
}

TEST(DnsJoiner, TcpSplitRetransmittedAndJoined) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  const std::string q = Sample("cname_aaaa_tcp.query.bin");
  const std::string r = Sample("cname_aaaa_tcp.response.bin");
  auto tcp = [](DnsPacket p, uint32_t seq) {
    p.transport = NetworkProtocol::kTcp;
    p.tcp_seq = seq;
    return p;
  };
  joiner.Add(tcp(Packet(q, true, 0), 1000), &out);
  EXPECT_EQ(joiner.pending(), 1u);
  // The response in three segments, the second sent twice.
  const std::string a = r.substr(0, 1), b = r.substr(1, 40), c = r.substr(41);
  joiner.Add(tcp(Packet(a, false, kMs), 5000), &out);
  joiner.Add(tcp(Packet(b, false, kMs), 5001), &out);
  joiner.Add(tcp(Packet(b, false, kMs), 5001), &out);
  EXPECT_TRUE(out.empty());
  joiner.Add(tcp(Packet(c, false, 2 * kMs), 5041), &out);
  ASSERT_EQ(out.size(), 1u);
  const auto& d = std::get<DnsEvent>(out[0].body);
  EXPECT_EQ(d.transport, NetworkProtocol::kTcp);
  EXPECT_EQ(d.query, "alias.test");
  ASSERT_EQ(d.answers.size(), 3u);
  EXPECT_EQ(d.answers[2].data, "2001:db8::30");
  EXPECT_EQ(joiner.stats().malformed, 0u);
}

TEST(DnsJoiner, TcpGapDropsTheBuffer) {
  DnsJoiner joiner;
  std::vector<TypedEvent> out;
  const std::string r = Sample("cname_aaaa_tcp.response.bin");
  auto tcp = [](DnsPacket p, uint32_t seq) {
    p.transport = NetworkProtocol::kTcp;
    p.tcp_seq = seq;
    return p;
  };
  joiner.Add(tcp(Packet(r.substr(0, 10), false, 0), 100), &out);
  joiner.Add(tcp(Packet(r.substr(20), false, 0), 120), &out);  // 10 bytes missing
  EXPECT_EQ(joiner.stats().tcp_dropped, 1u);
  EXPECT_EQ(joiner.stats().malformed, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(DnsJoiner, TcpStreamsAreBoundedAndExpire) {
  DnsJoinerOptions options;
  options.max_tcp_streams = 2;
  options.tcp_idle_ns = 10 * kMs;
  DnsJoiner joiner(options);
  std::vector<TypedEvent> out;
  const std::string first_byte("\x00", 1);  // outlives the packets that view it
  for (uint16_t port = 1; port <= 3; ++port) {
    DnsPacket p = Packet(first_byte, true, port * kMs, 7, port);
    p.transport = NetworkProtocol::kTcp;
    joiner.Add(p, &out);
  }
  EXPECT_EQ(joiner.tcp_streams(), 2u);
  joiner.Expire(100 * kMs, &out);
  EXPECT_EQ(joiner.tcp_streams(), 0u);
}

}  // namespace
}  // namespace recorder
