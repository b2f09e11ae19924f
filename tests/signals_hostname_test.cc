// DestinationHostname (signals/dns_names.h): the name of a connection's
// destination from a DNS answer of the same process (within an hour) or
// of any process (within five minutes); the signal stage feeding it from
// the DNS events it sees. And SignalMatcher::needs_argv: which rules need
// the process table to keep argv.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "filter_support.h"
#include "signals/dns_names.h"
#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"
#include "signals/signal_sink.h"
#include "signals_support.h"

namespace recorder::signals {
namespace {

constexpr int64_t kT = 1'000'000'000;

TEST(DnsNamesTest, TheProcessOwnAnswerWinsThenAnyRecentOne) {
  DnsNames names;
  names.Add("10.0.0.1", "own.example", kT, 7);
  names.Add("10.0.0.1", "other.example", kT + 1000, 8);
  EXPECT_EQ(names.Lookup("10.0.0.1", kT + 2000, 7), "own.example");
  EXPECT_EQ(names.Lookup("10.0.0.1", kT + 2000, 9), "other.example");  // the latest
  EXPECT_EQ(names.Lookup("10.0.0.2", kT + 2000, 7), "");
  // Not before the answer.
  EXPECT_EQ(names.Lookup("10.0.0.1", kT - 1, 7), "");
  // Another process's answer counts for five minutes, the own for an hour.
  EXPECT_EQ(names.Lookup("10.0.0.1", kT + 1000 + DnsNames::kHostWindowMs + 1, 9), "");
  EXPECT_EQ(names.Lookup("10.0.0.1", kT + DnsNames::kProcessWindowMs, 7), "own.example");
  EXPECT_EQ(names.Lookup("10.0.0.1", kT + DnsNames::kProcessWindowMs + 1, 7), "");
}

TEST(DnsNamesTest, AnEventAddsItsAddressAnswersUnderTheQueriedName) {
  DnsEvent dns;
  dns.query = "www.example.org";
  dns.response_seen = true;
  dns.answers = {{"www.example.org", 5, 60, "cdn.example.net"},
                 {"cdn.example.net", 1, 60, "192.0.2.7"},
                 {"cdn.example.net", 28, 60, "2001:db8::7"}};
  DnsNames names;
  names.AddEvent(dns, kT, 1);
  EXPECT_EQ(names.Lookup("192.0.2.7", kT, 1), "www.example.org");
  EXPECT_EQ(names.Lookup("2001:db8::7", kT, 1), "www.example.org");
  EXPECT_EQ(names.Lookup("cdn.example.net", kT, 1), "");  // a CNAME is no address
  DnsEvent unanswered = dns;
  unanswered.response_seen = false;
  DnsNames none;
  none.AddEvent(unanswered, kT, 1);
  EXPECT_EQ(none.addresses(), 0u);
}

using signals_test::CompileRules;

std::string Rule(const std::string& category, const std::string& selection) {
  return "title: t\nlevel: high\nlogsource: {product: linux, category: " + category +
         "}\ndetection:\n  selection:\n    " + selection + "\n  condition: selection\n";
}

class Collect : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (const TypedEvent& e : *events) kept.push_back(e);
    return Status::Ok();
  }
  std::vector<TypedEvent> kept;
};

TypedEvent Dns(const std::string& query, const std::string& address, int32_t pid, int64_t time) {
  DnsEvent dns;
  dns.query = query;
  dns.response_seen = true;
  dns.answers = {{query, 1, 60, address}};
  TypedEvent e = filter::Event(dns, "/usr/bin/curl", pid, 1, time);
  e.header.syscall.clear();
  return e;
}

TypedEvent Connect(const std::string& address, int32_t pid, int64_t time,
                   NetworkDirection direction = NetworkDirection::kOutbound) {
  TypedEvent e = filter::Net(direction, "tcp", address, 443);
  e.subject.pid = pid;
  e.header.time_ms = time;
  return e;
}

TEST(SignalSinkHostnameTest, AConnectionIsNamedByTheDnsAnswerThatResolvedItsAddress) {
  Collect next;
  SignalSink sink(
      &next, CompileRules({Rule("network_connection", "DestinationHostname|endswith: .evil.test")}),
      nullptr);
  EventBatch batch;
  batch.push_back(Connect("198.51.100.9", 300, kT));  // before any answer: no name
  batch.push_back(Dns("c2.evil.test", "198.51.100.9", 300, kT + 10));
  batch.push_back(Connect("198.51.100.9", 300, kT + 20));
  batch.push_back(Connect("198.51.100.10", 300, kT + 30));  // another address
  batch.push_back(Connect("198.51.100.9", 301, kT + 40));   // another process, recently
  batch.push_back(Connect("198.51.100.9", 302, kT + 10 + DnsNames::kHostWindowMs + 1));
  // An accepted connection's destination is this machine: not named.
  batch.push_back(Connect("198.51.100.9", 300, kT + 50, NetworkDirection::kInbound));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(next.kept.size(), 7u);
  std::vector<size_t> matched;
  for (size_t i = 0; i < next.kept.size(); ++i)
    if (!next.kept[i].signals.empty()) matched.push_back(i);
  EXPECT_EQ(matched, (std::vector<size_t>{2, 4}));
}

TEST(SignalMatcherNeedsTest, ArgvIsNeededOnlyForACommandLineThatIsNotTheExecsOwn) {
  EXPECT_FALSE(CompileRules({Rule("process_creation", "CommandLine|contains: x")})->needs_argv());
  EXPECT_FALSE(CompileRules({Rule("process_creation", "Image|endswith: /x")})->needs_argv());
  EXPECT_TRUE(
      CompileRules({Rule("process_creation", "ParentCommandLine|contains: x")})->needs_argv());
  EXPECT_TRUE(CompileRules({Rule("file_event", "CommandLine|contains: x")})->needs_argv());
  EXPECT_TRUE(CompileRules({Rule("network_connection", "CommandLine|contains: x")})->needs_argv());
  EXPECT_TRUE(CompileRules({"title: t\nlogsource: {product: linux, service: auditd}\n"
                            "detection:\n  keywords: [x]\n  condition: keywords\n"})
                  ->needs_argv());
  EXPECT_FALSE(
      CompileRules({Rule("network_connection", "DestinationIp: 10.0.0.1")})->needs_hostnames());
  EXPECT_TRUE(
      CompileRules({Rule("network_connection", "DestinationHostname: a.test")})->needs_hostnames());
}

}  // namespace
}  // namespace recorder::signals
