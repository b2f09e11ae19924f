// The filter stage in the sink chain as it is wired: enricher -> filter
// -> next sink. Drops, per-type counts, order of the kept events, and a
// replacement of the filters between batches.
#include "filter/filtering_sink.h"

#include <gtest/gtest.h>

#include <thread>

#include "enrich_front.h"
#include "filter_support.h"

namespace recorder::filter {
namespace {

// enricher -> filter -> collected.
struct Chain : chain_test::EnrichFront {
  explicit Chain(std::shared_ptr<const CompiledFilters> filters)
      : filtering(&collected, std::move(filters), &lineage) {
    Front(&filtering);
  }
  chain_test::CollectingSink collected;
  FilteringSink filtering;
};

TEST(FilteringSinkTest, DropsExcludedEventsKeepsOrderAndCountsPerType) {
  Chain chain(MustCompile(R"({"process": {"exclude": [{"exe": "/opt/agent"}]},
                              "network": {"exclude": [{"remote_port": 53}]}})"));
  std::vector<TypedEvent> batch;
  batch.push_back(Exec({"agent"}, "/opt/agent", 100, 1, 1000));       // dropped
  batch.push_back(Exec({"sh"}, "/bin/sh", 101, 100, 1100));           // child: dropped
  batch.push_back(Exec({"vim", "a"}, "/usr/bin/vim", 200, 1, 1200));  // kept
  TypedEvent w = FileEv(FileOperation::kWrite, "/tmp/a", "/bin/sh");
  w.subject.pid = 101;
  w.subject.ppid = 100;
  w.header.time_ms = 1300;
  batch.push_back(w);  // dropped (child's)
  TypedEvent dns =
      Net(NetworkDirection::kOutbound, "udp", "9.9.9.9", 53, "10.0.0.2", 5353, "/usr/bin/vim");
  dns.subject.pid = 200;
  dns.header.time_ms = 1400;
  batch.push_back(dns);  // dropped (port 53)
  TypedEvent v = FileEv(FileOperation::kWrite, "/home/u/a", "/usr/bin/vim");
  v.subject.pid = 200;
  v.header.time_ms = 1500;
  batch.push_back(v);  // kept
  ASSERT_TRUE(chain.Feed(std::move(batch)).ok());

  ASSERT_EQ(chain.collected.kept.size(), 2u);
  EXPECT_EQ(chain.collected.kept[0].subject.exe, "/usr/bin/vim");
  EXPECT_TRUE(std::holds_alternative<ProcessStart>(chain.collected.kept[0].body));
  EXPECT_EQ(std::get<FileEvent>(chain.collected.kept[1].body).path, "/home/u/a");
  // The kept events went through the enricher first.
  EXPECT_EQ(chain.collected.kept[1].enrichment.process_start_ms, 1200);

  const FilterStats stats = chain.filtering.stats();
  EXPECT_EQ(stats.seen[static_cast<size_t>(EventType::kProcess)], 3u);
  EXPECT_EQ(stats.dropped[static_cast<size_t>(EventType::kProcess)], 2u);
  EXPECT_EQ(stats.dropped[static_cast<size_t>(EventType::kFile)], 1u);
  EXPECT_EQ(stats.dropped[static_cast<size_t>(EventType::kNetwork)], 1u);
  EXPECT_EQ(stats.total_dropped(), 4u);
  // By kind, as runs.filtered_out_<kind> stores them.
  auto by_kind = [&](std::string_view kind) {
    for (size_t k = 0; k < kFilterEventKinds; ++k)
      if (EventKindName(k) == kind) return stats.dropped_by_kind[k];
    return uint64_t{999};
  };
  EXPECT_EQ(by_kind("process_start"), 2u);
  EXPECT_EQ(by_kind("file"), 1u);
  EXPECT_EQ(by_kind("network"), 1u);
  EXPECT_EQ(by_kind("security"), 0u);
  // The agent's exec, and the child's exec and write.
  EXPECT_EQ(stats.dropped_by_process, 3u);
  // The table still saw the excluded processes: that is how the child was known.
  EXPECT_NE(chain.table.Lookup(100, 1500), nullptr);
}

// DNS queries (MonitorDNS) go through the same rules: their own fields
// (query, the server as remote_address/remote_port, the transport as
// protocol), the subject's (exe), and a process exclusion's descendants.
TEST(FilteringSinkTest, DnsQueriesAreFilteredByTheirOwnFieldsAndTheirProcess) {
  Chain chain(MustCompile(R"({"dns": {"exclude": [{"query": {"glob": "*.corp.test"}},
                                                  {"remote_address": "10.9.0.0/16"},
                                                  {"exe": "/usr/sbin/unbound"},
                                                  {"protocol": "tcp", "remote_port": 5353}]},
                              "process": {"exclude": [{"exe": "/opt/agent"}]}})"));
  auto query = [](std::string name, std::string server, int32_t port, NetworkProtocol transport,
                  std::string exe, int32_t pid) {
    DnsEvent d;
    d.query = std::move(name);
    d.server_address = std::move(server);
    d.server_port = port;
    d.transport = transport;
    d.family = AddressFamily::kInet;
    d.attribution = DnsAttribution::kSocket;
    TypedEvent e = Event(std::move(d), exe, pid, 1, 2000);
    e.header.syscall.clear();
    return e;
  };
  std::vector<TypedEvent> batch;
  batch.push_back(Exec({"agent"}, "/opt/agent", 300, 1, 1000));  // dropped (process)
  const auto udp = NetworkProtocol::kUdp;
  const auto tcp = NetworkProtocol::kTcp;
  batch.push_back(query("www.example.test", "127.0.0.53", 53, udp, "/usr/bin/curl", 100));  // kept
  batch.push_back(query("db.corp.test", "127.0.0.53", 53, udp, "/usr/bin/curl", 100));      // query
  batch.push_back(query("www.example.test", "10.9.1.1", 53, udp, "/usr/bin/curl", 100));  // server
  batch.push_back(query("x.example.test", "10.1.1.1", 53, udp, "/usr/sbin/unbound", 101));  // exe
  batch.push_back(query("y.example.test", "10.1.1.1", 5353, tcp, "/usr/bin/curl", 100));    // both
  batch.push_back(query("z.example.test", "10.1.1.1", 5353, udp, "/usr/bin/curl", 100));    // kept
  batch.push_back(query("agent.example.test", "10.1.1.1", 53, udp, "/opt/agent", 300));  // process
  ASSERT_TRUE(chain.Feed(std::move(batch)).ok());

  std::vector<std::string> kept;
  for (const TypedEvent& e : chain.collected.kept)
    if (const auto* d = std::get_if<DnsEvent>(&e.body)) kept.push_back(d->query);
  EXPECT_EQ(kept, (std::vector<std::string>{"www.example.test", "z.example.test"}));
  const FilterStats stats = chain.filtering.stats();
  EXPECT_EQ(stats.seen[static_cast<size_t>(EventType::kDns)], 7u);
  EXPECT_EQ(stats.dropped[static_cast<size_t>(EventType::kDns)], 5u);
  size_t dns_kind = kFilterEventKinds;
  for (size_t k = 0; k < kFilterEventKinds; ++k)
    if (EventKindName(k) == "dns") dns_kind = k;
  ASSERT_LT(dns_kind, kFilterEventKinds);
  EXPECT_EQ(stats.dropped_by_kind[dns_kind], 5u) << "runs.filtered_out_dns";
}

TEST(FilteringSinkTest, DnsFieldsAreCheckedLikeTheOthers) {
  EXPECT_EQ(CompileError({{"filters.json", R"({"dns": {"exclude": [{"path": "/x"}]}})"}}),
            "filters.json: dns.exclude[0]: field \"path\" does not apply to dns events (their "
            "fields: exe, parent_exe, user, uid, auid, protocol, remote_address, remote_port, "
            "query)");
  EXPECT_EQ(CompileError({{"filters.json", R"({"network": {"exclude": [{"query": "a.test"}]}})"}}),
            "filters.json: network.exclude[0]: field \"query\" does not apply to network events "
            "(their fields: exe, parent_exe, user, uid, auid, success, syscall, direction, "
            "protocol, family, local_address, local_port, remote_address, remote_port)");
}

TEST(FilteringSinkTest, ReplacedFiltersApplyFromTheNextBatch) {
  Chain chain(MustCompile(R"({"file": {"exclude": [{"path": "/a"}]}})"));
  ASSERT_TRUE(
      chain.Feed({FileEv(FileOperation::kWrite, "/a"), FileEv(FileOperation::kWrite, "/b")}).ok());
  EXPECT_EQ(chain.collected.kept.size(), 1u);
  // From another thread, as a reload does.
  std::thread reload(
      [&] { chain.filtering.Replace(MustCompile(R"({"file": {"exclude": [{"path": "/b"}]}})")); });
  reload.join();
  ASSERT_TRUE(
      chain.Feed({FileEv(FileOperation::kWrite, "/a"), FileEv(FileOperation::kWrite, "/b")}).ok());
  ASSERT_EQ(chain.collected.kept.size(), 2u);
  EXPECT_EQ(std::get<FileEvent>(chain.collected.kept[1].body).path, "/a");
  EXPECT_EQ(chain.filtering.stats().reloads, 1u);
  // No filters at all: everything passes.
  chain.filtering.Replace(nullptr);
  ASSERT_TRUE(
      chain.Feed({FileEv(FileOperation::kWrite, "/a"), FileEv(FileOperation::kWrite, "/b")}).ok());
  EXPECT_EQ(chain.collected.kept.size(), 4u);
}

TEST(FilteringSinkTest, AnEmptiedBatchStillReachesTheNextSink) {
  Chain chain(MustCompile(R"({"file": {"exclude": [{"path": {"glob": "**"}}]}})"));
  ASSERT_TRUE(chain.Feed({FileEv(FileOperation::kWrite, "/a")}).ok());
  EXPECT_TRUE(chain.collected.kept.empty());
  EXPECT_EQ(chain.collected.batches, 1);
}

}  // namespace
}  // namespace recorder::filter
