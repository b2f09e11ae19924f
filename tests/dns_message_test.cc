// The DNS wire parser on messages captured from a real dnsmasq
// (tests/data/dns, made by scripts/capture-dns-samples) and on hostile
// ones: pointer loops, forward pointers, cut-short messages.
#include "parse/dns_message.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace recorder::dns {
namespace {

std::string Sample(const std::string& name) {
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/dns/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << name;
  return bytes.str();
}

DnsMessage Parse(std::string_view wire) {
  Result<DnsMessage> parsed = ParseDnsMessage(wire);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : DnsMessage{};
}

TEST(DnsMessage, QueryForA) {
  DnsMessage q = Parse(Sample("a_udp.query.bin"));
  EXPECT_EQ(q.id, 0x1111);
  EXPECT_FALSE(q.response);
  EXPECT_TRUE(q.recursion_desired);
  ASSERT_EQ(q.questions.size(), 1u);
  EXPECT_EQ(q.questions[0], (DnsQuestion{"www.a.test", kTypeA, 1}));
  EXPECT_TRUE(q.answers.empty());
}

TEST(DnsMessage, AnswerA) {
  DnsMessage r = Parse(Sample("a_udp.response.bin"));
  EXPECT_EQ(r.id, 0x1111);
  EXPECT_TRUE(r.response);
  EXPECT_EQ(r.rcode, 0);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0], (DnsAnswer{"www.a.test", kTypeA, 1, 300, "192.0.2.10"}));
}

TEST(DnsMessage, AnswerAaaa) {
  DnsMessage r = Parse(Sample("aaaa_udp.response.bin"));
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].type, kTypeAaaa);
  EXPECT_EQ(r.answers[0].data, "2001:db8::10");
}

TEST(DnsMessage, TwoAddresses) {
  DnsMessage r = Parse(Sample("multi_a_udp.response.bin"));
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(r.answer_count, 2);
  std::vector<std::string> got{r.answers[0].data, r.answers[1].data};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"192.0.2.21", "192.0.2.22"}));
}

TEST(DnsMessage, CnameChainThroughCompressedNames) {
  DnsMessage r = Parse(Sample("cname_chain_udp.response.bin"));
  ASSERT_EQ(r.answers.size(), 3u);
  EXPECT_EQ(r.answers[0], (DnsAnswer{"alias.test", kTypeCname, 1, 300, "mid.test"}));
  EXPECT_EQ(r.answers[1], (DnsAnswer{"mid.test", kTypeCname, 1, 300, "target.test"}));
  EXPECT_EQ(r.answers[2], (DnsAnswer{"target.test", kTypeA, 1, 300, "192.0.2.30"}));
}

TEST(DnsMessage, Nxdomain) {
  DnsMessage r = Parse(Sample("nxdomain_udp.response.bin"));
  EXPECT_EQ(r.rcode, 3);
  EXPECT_EQ(DnsRcodeName(r.rcode), "NXDOMAIN");
  EXPECT_TRUE(r.answers.empty());
  ASSERT_EQ(r.questions.size(), 1u);
  EXPECT_EQ(r.questions[0].name, "nothing.test");
}

TEST(DnsMessage, Edns) {
  DnsMessage q = Parse(Sample("edns_a_udp.query.bin"));
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.edns_udp_size, 1232);
  DnsMessage r = Parse(Sample("edns_a_udp.response.bin"));
  EXPECT_TRUE(r.edns);
  EXPECT_EQ(r.rcode, 0);
  ASSERT_EQ(r.answers.size(), 1u);
  EXPECT_EQ(r.answers[0].data, "192.0.2.10");
}

TEST(DnsMessage, EdnsExtendedRcode) {
  std::string r = Sample("edns_a_udp.response.bin");
  // The OPT record is last: its TTL's top byte is the extended rcode.
  // BADVERS = 16: extended 1, header 0.
  const size_t opt_ttl = r.size() - 6;
  ASSERT_EQ(static_cast<uint8_t>(r[r.size() - 10]), 0);  // OPT type low byte is 41, checked below
  ASSERT_EQ(static_cast<uint8_t>(r[opt_ttl - 3]), 41);
  r[opt_ttl] = 1;
  EXPECT_EQ(Parse(r).rcode, 16);
  EXPECT_EQ(DnsRcodeName(16), "BADVERS");
}

TEST(DnsMessage, TcpStreamSplitAcrossSegments) {
  const std::string wire = Sample("cname_aaaa_tcp.response.bin");
  DnsTcpStream stream;
  // Byte by byte, then two messages in one segment.
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    stream.Feed(wire.substr(i, 1));
    EXPECT_FALSE(stream.Next().has_value()) << i;
  }
  stream.Feed(wire.substr(wire.size() - 1));
  std::optional<std::string_view> message = stream.Next();
  ASSERT_TRUE(message.has_value());
  DnsMessage r = Parse(*message);
  EXPECT_EQ(r.id, 0x7777);
  ASSERT_EQ(r.answers.size(), 3u);
  EXPECT_EQ(r.answers[2].data, "2001:db8::30");
  EXPECT_FALSE(stream.Next().has_value());
  stream.Feed(wire + wire.substr(0, 5));
  ASSERT_TRUE(stream.Next().has_value());
  EXPECT_FALSE(stream.Next().has_value());
  EXPECT_EQ(stream.buffered(), 5u);
  const std::string query = Sample("cname_aaaa_tcp.query.bin");
  DnsTcpStream queries;
  queries.Feed(query);
  message = queries.Next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(Parse(*message).questions.at(0).type, kTypeAaaa);
}

TEST(DnsMessage, UnknownTypeKeptAsNumber) {
  std::string r = Sample("a_udp.response.bin");
  // The answer's type (after the 12-byte header, the 16-byte question and
  // the 2-byte pointer) becomes 0x1234.
  r[30] = 0x12;
  r[31] = 0x34;
  DnsMessage m = Parse(r);
  ASSERT_EQ(m.answers.size(), 1u);
  EXPECT_EQ(m.answers[0].type, 0x1234);
  EXPECT_EQ(m.answers[0].data, "");
  EXPECT_EQ(DnsTypeName(0x1234), "TYPE4660");
  EXPECT_EQ(DnsTypeName(kTypeAaaa), "AAAA");
}

TEST(DnsMessage, EveryTruncationIsSafe) {
  // Any prefix either parses or is refused; never reads past its end
  // (the ASan build checks the reads).
  for (const char* name :
       {"cname_chain_udp.response.bin", "edns_a_udp.response.bin", "multi_a_udp.response.bin"}) {
    const std::string wire = Sample(name);
    for (size_t n = 0; n < wire.size(); ++n) {
      const std::string prefix = wire.substr(0, n);
      Result<DnsMessage> parsed = ParseDnsMessage(prefix);
      if (n < 12) {
        EXPECT_FALSE(parsed.ok()) << name << " " << n;
        EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt);
      } else if (parsed.ok()) {
        EXPECT_LE(parsed->answers.size(), parsed->answer_count);
      }
    }
  }
  // Cut inside the answers: the question is whole, so it parses with the
  // answers that were whole.
  const std::string chain = Sample("cname_chain_udp.response.bin");
  DnsMessage cut = Parse(chain.substr(0, chain.size() - 3));
  EXPECT_EQ(cut.questions.at(0).name, "alias.test");
  EXPECT_EQ(cut.answers.size(), 2u);
}

std::string Header(uint16_t qdcount, uint16_t ancount) {
  return std::string{0x12,
                     0x34,
                     static_cast<char>(0x81),
                     static_cast<char>(0x80),
                     0,
                     static_cast<char>(qdcount),
                     0,
                     static_cast<char>(ancount),
                     0,
                     0,
                     0,
                     0};
}

TEST(DnsMessage, PointerLoopRefused) {
  // The question's name is a pointer to itself.
  std::string wire = Header(1, 0) + std::string{static_cast<char>(0xC0), 12, 0, 1, 0, 1};
  Result<DnsMessage> parsed = ParseDnsMessage(wire);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kCorrupt);
  // Two pointers to each other: a label, then a pointer back to the first.
  wire = Header(1, 0) + std::string{1, 'a', static_cast<char>(0xC0), 14, 0, 1, 0, 1};
  // offset 12: label "a"; offset 14: pointer to 14 (itself) -> refused.
  EXPECT_FALSE(ParseDnsMessage(wire).ok());
}

TEST(DnsMessage, ForwardPointerRefused) {
  std::string wire =
      Header(1, 0) + std::string{static_cast<char>(0xC0), 20, 0, 1, 0, 1} + std::string{1, 'x', 0};
  EXPECT_FALSE(ParseDnsMessage(wire).ok());
}

TEST(DnsMessage, NameTooLongRefused) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += std::string(1, 63) + std::string(63, 'a');
  std::string wire = Header(1, 0) + name + std::string{0, 0, 1, 0, 1};
  EXPECT_FALSE(ParseDnsMessage(wire).ok());
}

TEST(DnsMessage, ReservedLabelTypeRefused) {
  std::string wire = Header(1, 0) + std::string{0x40, 'a', 0, 0, 1, 0, 1};
  EXPECT_FALSE(ParseDnsMessage(wire).ok());
}

TEST(DnsMessage, OddBytesInLabelsEscaped) {
  std::string wire = Header(1, 0) + std::string{3, 'a', '.', '\n', 0, 0, 1, 0, 1};
  DnsMessage m = Parse(wire);
  EXPECT_EQ(m.questions.at(0).name, "a\\046\\010");
}

TEST(DnsMessage, HugeCountsDoNotAllocate) {
  std::string wire = Header(0, 0);
  wire[6] = static_cast<char>(0xFF);
  wire[7] = static_cast<char>(0xFF);
  DnsMessage m = Parse(wire);
  EXPECT_EQ(m.answer_count, 0);
  EXPECT_TRUE(m.answers.empty());
}

// More A records than a captured answer can hold (2048 bytes; these take
// 17 each): every one is kept, none only counted (64 were, before).
TEST(DnsMessage, EveryAnswerACaptureCanHoldIsKept) {
  constexpr int kRecords = 127;
  std::string wire = Header(0, kRecords);
  for (int i = 0; i < kRecords; ++i)
    wire += std::string{1,
                        'a',
                        0,
                        0,
                        1,
                        0,
                        1,
                        0,
                        0,
                        0,
                        60,
                        0,
                        4,
                        static_cast<char>(198),
                        51,
                        100,
                        static_cast<char>(i)};
  DnsMessage m = Parse(wire);
  EXPECT_EQ(m.answer_count, kRecords);
  ASSERT_EQ(m.answers.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(m.answers.back().data, "198.51.100.126");
}

TEST(DnsMessage, CnameTargetMustStayInsideItsData) {
  // An answer whose CNAME rdata claims 1 byte but whose name goes on.
  std::string wire =
      Header(0, 1) + std::string{0, 0, 5, 0, 1, 0, 0, 0, 1, 0, 1, 3, 'a', 'b', 'c', 0};
  EXPECT_TRUE(Parse(wire).answers.empty());
}

}  // namespace
}  // namespace recorder::dns
