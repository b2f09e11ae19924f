// investigate::Hunt over rows the store wrote: a process creation's
// parent image and command line come from the parent's row, a file
// event's command line from its process's row, a connection's
// DestinationHostname from the stored DNS answer of its process (also
// when that answer is older than --since), and --since/--until bound the
// events.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "investigate/hunt.h"
#include "investigate/investigation_db.h"
#include "signals/sigma_loader.h"
#include "signals_support.h"
#include "store/event_store.h"
#include "temp_dir.h"

namespace recorder::investigate {
namespace {

constexpr int64_t kT = 1'790'000'000'000;

TypedEvent Event(int64_t time, uint64_t serial, int32_t pid, int32_t ppid, std::string exe,
                 EventBody body) {
  TypedEvent e;
  e.header.time_ms = time;
  e.header.serial = serial;
  e.header.syscall = "openat";
  e.subject.pid = pid;
  e.subject.ppid = ppid;
  e.subject.uid = 1000;
  e.subject.auid = 1000;
  e.subject.exe = std::move(exe);
  e.body = std::move(body);
  return e;
}

TypedEvent Exec(int64_t time, uint64_t serial, int32_t pid, int32_t ppid, std::string exe,
                std::vector<std::string> argv) {
  ProcessStart start;
  start.argv = std::move(argv);
  start.argc = static_cast<int64_t>(start.argv.size());
  start.cwd = "/";
  TypedEvent e = Event(time, serial, pid, ppid, std::move(exe), std::move(start));
  e.header.syscall = "execve";
  return e;
}

TypedEvent Connect(int64_t time, uint64_t serial, const std::string& address) {
  NetworkEvent net;
  net.direction = NetworkDirection::kOutbound;
  net.protocol = NetworkProtocol::kTcp;
  net.family = AddressFamily::kInet;
  net.remote_address = address;
  net.remote_port = 443;
  TypedEvent e = Event(time, serial, 501, 500, "/bin/sh", std::move(net));
  e.header.syscall = "connect";
  return e;
}

class HuntTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::EventStore::Open(db_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EventBatch batch;
    batch.push_back(Exec(kT, 1, 500, 1, "/usr/sbin/nginx", {"nginx", "-g", "daemon off;"}));
    batch.push_back(Exec(kT + 10, 2, 501, 500, "/bin/sh", {"sh", "-c", "curl evil"}));
    DnsEvent dns;
    dns.query = "c2.evil.test";
    dns.query_type = 1;
    dns.response_seen = true;
    dns.answers = {{"c2.evil.test", 1, 60, "198.51.100.9"},
                   {"c2.evil.test", 1, 60, "198.51.100.8"}};
    dns.attribution = DnsAttribution::kSocket;
    TypedEvent query = Event(kT + 20, 0, 501, 500, "/bin/sh", dns);
    query.header.syscall.clear();
    batch.push_back(std::move(query));
    batch.push_back(Connect(kT + 30, 3, "198.51.100.9"));
    batch.push_back(Connect(kT + 40, 4, "198.51.100.10"));
    batch.push_back(Connect(kT + 45, 5, "198.51.100.8"));
    FileEvent file;
    file.operation = FileOperation::kWrite;
    file.path = "/tmp/x";
    batch.push_back(Event(kT + 50, 6, 501, 500, "/bin/sh", file));
    // The same command line under another parent: no parent match.
    batch.push_back(Exec(kT + 60, 7, 502, 1, "/bin/sh", {"sh", "-c", "curl evil"}));
    ASSERT_TRUE((*store)->Add(&batch, 0).ok());
    ASSERT_TRUE((*store)->Flush().ok());
  }

  std::vector<HuntMatch> Run(const std::vector<std::string>& rules, HuntQuery query = {}) {
    auto db = OpenInvestigationDb(db_);
    EXPECT_TRUE(db.ok()) << db.status().message();
    auto matcher = signals_test::CompileRules(rules);
    Result<HuntResult> result = Hunt(**db, *matcher, query);
    EXPECT_TRUE(result.ok()) << result.status().message();
    return result.ok() ? result->matches : std::vector<HuntMatch>();
  }

  TempDir dir_;
  std::string db_ = dir_.File("monitor.db");
};

const std::string kParentRule = R"(title: shell under nginx
id: parent
logsource: {product: linux, category: process_creation}
detection:
  selection:
    ParentImage|endswith: /nginx
    ParentCommandLine|contains: daemon off
    CommandLine|contains: curl
  condition: selection
)";

const std::string kHostRule = R"(title: to the evil domain
id: host
logsource: {product: linux, category: network_connection}
detection:
  selection:
    DestinationHostname|endswith: .evil.test
  condition: selection
)";

const std::string kFileRule = R"(title: tmp write by curl shell
id: file
logsource: {product: linux, category: file_event}
detection:
  selection:
    TargetFilename|startswith: /tmp/
    CommandLine|contains: curl evil
  condition: selection
)";

TEST_F(HuntTest, ParentFieldsAndTheProcessCommandLineComeFromTheStoredRows) {
  std::vector<HuntMatch> m = Run({kParentRule, kFileRule});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].rule, 0u);
  EXPECT_EQ(m[0].event_table, "processes");
  EXPECT_EQ(m[0].pid, 501);
  EXPECT_EQ(m[0].time, kT + 10);
  EXPECT_EQ(m[0].exe, "/bin/sh");
  EXPECT_EQ(m[0].event_row, m[0].process_id);
  EXPECT_EQ(m[1].rule, 1u);
  EXPECT_EQ(m[1].event_table, "file_events");
  EXPECT_EQ(m[1].pid, 501);
  EXPECT_EQ(m[1].process_id, m[0].process_id);
  EXPECT_EQ(m[1].time, kT + 50);
}

TEST_F(HuntTest, DestinationHostnameComesFromTheStoredDnsAnswer) {
  std::vector<HuntMatch> m = Run({kHostRule});
  ASSERT_EQ(m.size(), 2u);  // .9 and .8, not .10
  EXPECT_EQ(m[0].event_table, "network_events");
  EXPECT_EQ(m[0].time, kT + 30);
  EXPECT_EQ(m[1].time, kT + 45);
  // An answer from before --since still names a connection after it.
  HuntQuery late;
  late.since = kT + 35;
  m = Run({kHostRule}, late);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].time, kT + 45);
  HuntQuery early;
  early.until = kT + 30;
  EXPECT_EQ(Run({kHostRule}, early).size(), 1u);
}

TEST_F(HuntTest, AuditdRulesAreNotServedAndNothingIsRead) {
  EXPECT_FALSE(HuntServes(signals::LogSource::kAuditd));
  EXPECT_TRUE(HuntServes(signals::LogSource::kProcessCreation));
  EXPECT_NE(HuntUnservedReason(signals::LogSource::kAuditd).find("raw audit records"),
            std::string_view::npos);
  EXPECT_TRUE(Run({"title: t\nlogsource: {product: linux, service: auditd}\n"
                   "detection:\n  keywords: [sh]\n  condition: keywords\n"})
                  .empty());
}

}  // namespace
}  // namespace recorder::investigate
