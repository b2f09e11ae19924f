// The event store against real SQLite files: every event type through the
// public views, process identity across pid reuse, idempotence, batching
// by rows and by delay, schema versioning, bad database paths, and a
// reader running while the store writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "db_query.h"
#include "store/dns_response.h"
#include "store/event_store.h"
#include "store/schema.h"
#include "store/string_interner.h"
#include "temp_dir.h"

namespace recorder::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The store tests start from a fresh temporary directory and the path
// their monitor.db will have (each opens the stores it needs).
class StoreFile : public ::testing::Test {
 protected:
  TempDir dir;
  std::string path = dir.File("monitor.db");
};
class StoreSchemaTest : public StoreFile {};
class StoreTest : public StoreFile {};
class StoreEnrichmentTest : public StoreFile {};
class StoreImageTest : public StoreFile {};

constexpr int64_t kT0 = 1700000000123;  // 2023-11-14T22:13:20.123Z

TypedEvent Event(int64_t time_ms, uint64_t serial, int32_t pid, std::string exe, EventBody body) {
  TypedEvent e;
  e.header.time_ms = time_ms;
  e.header.serial = serial;
  e.subject.pid = pid;
  e.subject.ppid = 1;
  e.subject.uid = 1000;
  e.subject.euid = 1000;
  e.subject.auid = 1000;
  e.subject.ses = 3;
  e.subject.tty = "pts0";
  e.subject.exe = std::move(exe);
  e.subject.comm = std::filesystem::path(e.subject.exe).filename();
  e.body = std::move(body);
  return e;
}

TypedEvent Exec(int64_t time_ms, uint64_t serial, int32_t pid, const std::string& exe,
                std::vector<std::string> argv, int32_t ppid = 1) {
  ProcessStart start;
  start.argv = std::move(argv);
  start.argc = static_cast<int64_t>(start.argv.size());
  start.cwd = "/home/u";
  TypedEvent e = Event(time_ms, serial, pid, exe, start);
  e.subject.ppid = ppid;
  e.header.syscall = "execve";
  return e;
}

TypedEvent Exit(int64_t time_ms, uint64_t serial, int32_t pid, const std::string& exe,
                int64_t code) {
  return Event(time_ms, serial, pid, exe, ProcessEnd{code});
}

TypedEvent File(int64_t time_ms, uint64_t serial, int32_t pid, const std::string& exe,
                FileOperation op, std::string path, std::string new_path = "") {
  FileEvent f;
  f.operation = op;
  f.path = std::move(path);
  f.new_path = std::move(new_path);
  return Event(time_ms, serial, pid, exe, f);
}

Status AddAll(EventStore* store, EventBatch events, int64_t now_ms = 0) {
  return store->Add(&events, now_ms);
}

std::unique_ptr<EventStore> OpenOrDie(const std::string& path, EventStoreOptions options = {}) {
  auto store = EventStore::Open(path, std::move(options));
  EXPECT_TRUE(store.ok()) << store.status().message();
  return store.ok() ? std::move(store).value() : nullptr;
}

TEST_F(StoreSchemaTest, NewDatabaseHasVersionWalAndIncrementalVacuum) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(Scalar(path, "PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(Scalar(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Scalar(path, "PRAGMA auto_vacuum"), "2");  // INCREMENTAL
  for (const char* view : {"processes", "file_events", "network_events", "security_events",
                           "module_events", "image_events", "dns_events", "runs"}) {
    EXPECT_EQ(Scalar(path, fmt::format("SELECT count(*) FROM sqlite_schema WHERE type = 'view' "
                                       "AND name = '{}'",
                                       view)),
              "1")
        << view;
  }
  // Reopening an up-to-date database changes nothing.
  store.reset();
  store = OpenOrDie(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(Scalar(path, "PRAGMA user_version"), std::to_string(kSchemaVersion));
}

TEST_F(StoreSchemaTest, ViewColumnsAreTheDocumentedOnes) {
  ASSERT_TRUE(OpenOrDie(path));
  auto columns = [&](const std::string& view) {
    std::vector<std::string> names;
    for (const Row& row : Query(path, "PRAGMA table_info(" + view + ")"))
      names.push_back(row.at("name"));
    return names;
  };
  EXPECT_THAT(columns("processes"),
              testing::IsSupersetOf({"process_id", "pid",      "ppid",      "parent_process_id",
                                     "start_time", "end_time", "exit_code", "exe",
                                     "cmdline",    "argv",     "cwd",       "uid",
                                     "user",       "euid",     "euser",     "auid",
                                     "login_user", "session",  "tty",       "sha256",
                                     "md5",        "success"}));
  EXPECT_THAT(columns("file_events"),
              testing::IsSupersetOf({"time", "time_utc", "process_id", "pid", "exe", "user",
                                     "operation", "path", "new_path", "success", "path_unresolved",
                                     "path_dir_dev", "path_dir_inode", "new_path_unresolved",
                                     "new_path_dir_dev", "new_path_dir_inode"}));
  EXPECT_THAT(columns("network_events"),
              testing::IsSupersetOf({"time", "time_utc", "process_id", "pid", "exe", "user",
                                     "direction", "protocol", "family", "local_address",
                                     "local_port", "remote_address", "remote_port", "success"}));
  EXPECT_THAT(columns("security_events"),
              testing::IsSupersetOf({"time", "time_utc", "process_id", "pid", "exe", "kind", "user",
                                     "target_user", "result", "terminal", "address", "detail"}));
  EXPECT_THAT(columns("module_events"),
              testing::IsSupersetOf(
                  {"time", "time_utc", "process_id", "pid", "exe", "user", "operation", "module"}));
  EXPECT_THAT(columns("image_events"),
              testing::IsSupersetOf(
                  {"time", "time_utc", "process_id", "pid", "exe", "user", "path", "sha256"}));
  EXPECT_THAT(columns("dns_events"),
              testing::IsSupersetOf({"time", "time_utc", "process_id", "pid", "exe", "user",
                                     "query", "response", "type"}));
}

TEST_F(StoreTest, EveryEventTypeRoundTripsThroughTheViews) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);

  NetworkEvent net;
  net.direction = NetworkDirection::kOutbound;
  net.protocol = NetworkProtocol::kTcp;
  net.family = AddressFamily::kInet;
  net.remote_address = "10.0.0.7";
  net.remote_port = 443;
  SecurityEvent sec;
  sec.kind = SecurityKind::kLogin;
  sec.record_type = SecurityRecordType::kUserLogin;
  sec.user = "alice";
  sec.target_user = "alice";
  sec.result = SecurityResult::kFailed;
  sec.terminal = "ssh";
  sec.address = "192.0.2.1";
  sec.hostname = "client";
  sec.detail = "op=login";
  ModuleEvent mod{ModuleOperation::kUnload, "dummy"};
  FileEvent chmod;
  chmod.operation = FileOperation::kChmod;
  chmod.path = "/etc/shadow";
  chmod.mode = 0600;

  EventBatch events;
  events.push_back(
      Exec(kT0, 10, 4242, "/usr/bin/curl", {"curl", "-H", "a b", "it's", "", "x=1,y"}));
  events.push_back(
      File(kT0 + 1, 11, 4242, "/usr/bin/curl", FileOperation::kRename, "/tmp/a", "/tmp/b c"));
  events.push_back(Event(kT0 + 2, 12, 4242, "/usr/bin/curl", chmod));
  events.back().header.success = false;
  events.back().header.exit = -1;
  events.push_back(Event(kT0 + 3, 13, 4242, "/usr/bin/curl", net));
  events.push_back(Event(kT0 + 4, 14, 4242, "/usr/bin/curl", sec));
  events.push_back(Event(kT0 + 5, 15, 4242, "/usr/bin/curl", mod));
  events.push_back(Exit(kT0 + 6, 16, 4242, "/usr/bin/curl", 7));
  ASSERT_TRUE(store->Add(&events, 0).ok());
  ASSERT_TRUE(store->Flush().ok());

  std::vector<Row> procs = Query(path, "SELECT * FROM processes");
  ASSERT_EQ(procs.size(), 1u);
  const Row& p = procs[0];
  ExpectColumns(p, {
                       {"pid", "4242"},
                       {"ppid", "1"},
                       {"start_time", std::to_string(kT0)},
                       {"start_time_utc", "2023-11-14T22:13:20.123Z"},
                       {"end_time", std::to_string(kT0 + 6)},
                       {"exit_code", "7"},
                       {"exe", "/usr/bin/curl"},
                       {"cmdline", "curl -H 'a b' 'it'\\''s' '' x=1,y"},
                       {"argv", R"(["curl","-H","a b","it's","","x=1,y"])"},
                       {"cwd", "/home/u"},
                       {"uid", "1000"},
                       {"auid", "1000"},
                       {"session", "3"},
                       {"tty", "pts0"},
                       {"success", "1"},
                       {"placeholder", "0"},
                       {"user", "NULL"},  // until enrichment
                       {"sha256", "NULL"},
                   });
  const std::string process_id = p.at("process_id");

  std::vector<Row> files = Query(path, "SELECT * FROM file_events ORDER BY time");
  ASSERT_EQ(files.size(), 2u);
  ExpectColumns(files[0], {
                              {"time", std::to_string(kT0 + 1)},
                              {"time_utc", "2023-11-14T22:13:20.124Z"},
                              {"process_id", process_id},
                              {"pid", "4242"},
                              {"exe", "/usr/bin/curl"},
                              {"operation", "rename"},
                              {"path", "/tmp/a"},
                              {"new_path", "/tmp/b c"},
                              {"success", "1"},
                          });
  ExpectColumns(files[1], {
                              {"operation", "chmod"},
                              {"new_path", "NULL"},
                              {"mode", "384"},
                              {"success", "0"},
                          });

  std::vector<Row> nets = Query(path, "SELECT * FROM network_events");
  ASSERT_EQ(nets.size(), 1u);
  ExpectColumns(nets[0], {
                             {"process_id", process_id},
                             {"direction", "outbound"},
                             {"protocol", "tcp"},
                             {"family", "ipv4"},
                             {"local_address", "NULL"},
                             {"local_port", "NULL"},
                             {"remote_address", "10.0.0.7"},
                             {"remote_port", "443"},
                         });

  std::vector<Row> secs = Query(path, "SELECT * FROM security_events");
  ASSERT_EQ(secs.size(), 1u);
  ExpectColumns(secs[0], {
                             {"kind", "login"},
                             {"user", "alice"},
                             {"target_user", "alice"},
                             {"result", "failed"},
                             {"terminal", "ssh"},
                             {"address", "192.0.2.1"},
                             {"detail", "op=login"},
                             {"record_type", "USER_LOGIN"},
                         });

  std::vector<Row> mods = Query(path, "SELECT * FROM module_events");
  ASSERT_EQ(mods.size(), 1u);
  EXPECT_EQ(mods[0].at("operation"), "unload");
  EXPECT_EQ(mods[0].at("module"), "dummy");
  EXPECT_EQ(mods[0].at("pid"), "4242");

  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM image_events"), "0");
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM dns_events"), "0");
  EXPECT_EQ(store->counters().stored(), 7u);
}

TEST_F(StoreTest, ProcessIdIsUniqueAcrossPidReuse) {
  EventStoreOptions options;
  options.process_expiration_ms = 180 * 1000;
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store);
  ASSERT_TRUE(
      AddAll(store.get(),
             {
                 Exec(kT0, 1, 100, "/bin/a", {"a"}),
                 File(kT0 + 10, 2, 100, "/bin/a", FileOperation::kWrite, "/f1"),
                 Exit(kT0 + 20, 3, 100, "/bin/a", 0),
                 // Late event of the exited process, within the expiration.
                 File(kT0 + 30, 4, 100, "/bin/a", FileOperation::kWrite, "/f2"),
                 // The pid is reused by a new exec.
                 Exec(kT0 + 40, 5, 100, "/bin/b", {"b"}),
                 File(kT0 + 50, 6, 100, "/bin/b", FileOperation::kWrite, "/f3"),
                 // A pid never exec'd while we watched: placeholder.
                 File(kT0 + 60, 7, 200, "/bin/x", FileOperation::kWrite, "/f4"),
                 File(kT0 + 61, 8, 200, "/bin/x", FileOperation::kWrite, "/f5"),
                 // Same pid, other program, no exec seen: reused pid.
                 File(kT0 + 70, 9, 200, "/bin/y", FileOperation::kWrite, "/f6"),
                 // pid 100 exits, and is seen again long after expiry.
                 Exit(kT0 + 80, 10, 100, "/bin/b", 1),
                 File(kT0 + 80 + 181 * 1000, 11, 100, "/bin/b", FileOperation::kWrite, "/f7"),
             })
          .ok());
  ASSERT_TRUE(store->Flush().ok());

  std::vector<Row> procs =
      Query(path,
            "SELECT process_id, pid, exe, placeholder, exit_code FROM processes "
            "ORDER BY process_id");
  ASSERT_EQ(procs.size(), 5u);
  std::set<std::string> ids;
  for (const Row& r : procs) ids.insert(r.at("process_id"));
  EXPECT_EQ(ids.size(), 5u);
  std::map<std::string, std::string> owner;  // path -> process_id
  for (const Row& r : Query(path, "SELECT path, process_id FROM file_events"))
    owner[r.at("path")] = r.at("process_id");
  EXPECT_EQ(owner["/f1"], procs[0].at("process_id"));
  EXPECT_EQ(owner["/f2"], procs[0].at("process_id"));
  EXPECT_EQ(owner["/f3"], procs[1].at("process_id"));
  EXPECT_NE(owner["/f3"], owner["/f1"]);
  EXPECT_EQ(owner["/f4"], owner["/f5"]);
  EXPECT_NE(owner["/f6"], owner["/f5"]);
  EXPECT_NE(owner["/f7"], owner["/f3"]);
  EXPECT_EQ(procs[0].at("exit_code"), "0");
  EXPECT_EQ(procs[1].at("exit_code"), "1");
  EXPECT_EQ(procs[2].at("placeholder"), "1");
  EXPECT_EQ(procs[2].at("exe"), "/bin/x");
  EXPECT_EQ(procs[3].at("exe"), "/bin/y");
  EXPECT_EQ(procs[4].at("exe"), "/bin/b");
  EXPECT_EQ(procs[4].at("placeholder"), "1");
  EXPECT_EQ(store->counters().placeholder_processes, 3u);
}

TEST_F(StoreTest, ParentProcessIdComesFromTheParentsCurrentProcess) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddAll(store.get(), {Exec(kT0, 1, 500, "/bin/bash", {"bash"}),
                                   Exec(kT0 + 5, 2, 501, "/bin/ls", {"ls", "-l"}, 500),
                                   Exec(kT0 + 6, 3, 502, "/bin/ps", {"ps"}, 999)})
                  .ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> rows =
      Query(path, "SELECT process_id, parent_process_id FROM processes ORDER BY process_id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].at("parent_process_id"), rows[0].at("process_id"));
  EXPECT_EQ(rows[2].at("parent_process_id"), "NULL");  // parent never seen
}

TEST_F(StoreTest, FailedExecOfAForkedChildDescribesThatChild) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  TypedEvent failed = Exec(kT0, 1, 300, "/usr/bin/python3", {"/nonexistent"});
  failed.header.success = false;
  ASSERT_TRUE(AddAll(store.get(), {failed, Exit(kT0 + 1, 2, 300, "/usr/bin/python3", 127)}).ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> rows = Query(path, "SELECT success, exit_code, placeholder FROM processes");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("success"), "0");
  EXPECT_EQ(rows[0].at("exit_code"), "127");
}

EventBatch SampleEvents() {
  return {Exec(kT0, 1, 100, "/bin/a", {"a"}),
          File(kT0 + 1, 2, 100, "/bin/a", FileOperation::kCreate, "/f1"),
          File(kT0 + 2, 3, 300, "/bin/c", FileOperation::kDelete, "/f2"),
          Exit(kT0 + 3, 4, 100, "/bin/a", 0)};
}

TEST_F(StoreTest, StoringTheSameAuditEventsTwiceAddsNothing) {
  const char* kCounts =
      "SELECT (SELECT count(*) FROM processes) || '/' || (SELECT count(*) FROM file_events)";
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddAll(store.get(), SampleEvents()).ok());
  }
  EXPECT_EQ(Scalar(path, kCounts), "2/2");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    const EventBatch sample = SampleEvents();
    // Later events of the same processes, past what was stored before.
    EventBatch again;
    for (size_t i = 0; i + 1 < sample.size(); ++i) again.push_back(sample[i]);
    again.push_back(File(kT0 + 2, 5, 100, "/bin/a", FileOperation::kWrite, "/f3"));
    again.push_back(sample.back());
    ASSERT_TRUE(AddAll(store.get(), again).ok());
    EXPECT_EQ(store->counters().duplicates, 4u);
    EXPECT_EQ(store->counters().file_events, 1u);
    EXPECT_EQ(store->counters().placeholder_processes, 0u);
  }
  EXPECT_EQ(Scalar(path, kCounts), "2/3");
  // The new event belongs to the process stored by the first pass.
  EXPECT_EQ(Scalar(path,
                   "SELECT f.process_id = p.process_id FROM file_events f, processes p "
                   "WHERE f.path = '/f3' AND p.exe = '/bin/a'"),
            "1");
}

// An exec's key skips its lookup only when it is above every stored key
// (the store tracks the largest). Keys at or below it, stored or not, in
// the same transaction or a later one, must still be looked up.
TEST_F(StoreTest, ExecKeysAtOrBelowTheLargestStoredKeyAreStillLookedUp) {
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddAll(store.get(), {Exec(kT0 + 10, 10, 100, "/bin/a", {"a"}),
                                     File(kT0 + 20, 20, 100, "/bin/a", FileOperation::kWrite, "/f"),
                                     Exec(kT0 + 10, 10, 100, "/bin/a", {"a"}),  // stored, below
                                     Exec(kT0 + 15, 15, 200, "/bin/b", {"b"}),  // new, below
                                     Exec(kT0 + 30, 30, 300, "/bin/c", {"c"}),  // new, above
                                     File(kT0 + 25, 25, 200, "/bin/b", FileOperation::kWrite, "/g"),
                                     Exec(kT0 + 30, 30, 300, "/bin/c", {"c"})})  // stored, equal
                    .ok());
    EXPECT_EQ(store->counters().process_starts, 3u);
    EXPECT_EQ(store->counters().file_events, 2u);
    EXPECT_EQ(store->counters().duplicates, 2u);
  }
  {
    // A new transaction reads the largest key again.
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddAll(store.get(), {Exec(kT0 + 30, 30, 300, "/bin/c", {"c"}),
                                     Exec(kT0 + 40, 40, 400, "/bin/d", {"d"})})
                    .ok());
    EXPECT_EQ(store->counters().process_starts, 1u);
    EXPECT_EQ(store->counters().duplicates, 1u);
  }
  EXPECT_EQ(Scalar(path,
                   "SELECT group_concat(exe, ',') FROM (SELECT exe FROM processes "
                   "ORDER BY start_time)"),
            "/bin/a,/bin/b,/bin/c,/bin/d");
}

// Keys known to be new wait in a multi-row INSERT (batched_insert.h);
// a key at or below the largest stored one is checked against the table,
// which must then include the waiting keys.
TEST_F(StoreTest, DuplicateChecksSeeKeysNotYetWritten) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddAll(store.get(), {File(kT0 + 20, 20, 100, "/bin/a", FileOperation::kWrite, "/f"),
                                   File(kT0 + 10, 10, 100, "/bin/a", FileOperation::kWrite, "/e"),
                                   File(kT0 + 20, 20, 100, "/bin/a", FileOperation::kWrite, "/f"),
                                   File(kT0 + 30, 30, 100, "/bin/a", FileOperation::kWrite, "/g"),
                                   File(kT0 + 25, 25, 100, "/bin/a", FileOperation::kWrite, "/h"),
                                   File(kT0 + 30, 30, 100, "/bin/a", FileOperation::kWrite, "/g")})
                  .ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->counters().file_events, 4u);
  EXPECT_EQ(store->counters().duplicates, 2u);
  EXPECT_EQ(Scalar(path,
                   "SELECT group_concat(path, ',') FROM (SELECT path FROM file_events "
                   "ORDER BY time)"),
            "/e,/f,/h,/g");
}

TEST_F(StoreTest, TypedEventsOfOneAuditEventAreAllStored) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  // An execve with euid != uid: a process start and a privilege change,
  // same (time, serial).
  SecurityEvent change;
  change.kind = SecurityKind::kPrivilegeChange;
  EventBatch events = {Exec(kT0, 9, 700, "/usr/bin/sudo", {"sudo", "id"}),
                       Event(kT0, 9, 700, "/usr/bin/sudo", change)};
  ASSERT_TRUE(store->Add(&events, 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM processes"), "1");
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM security_events"), "1");
  EXPECT_EQ(store->counters().duplicates, 0u);
}

// The exec is not the audit event's first typed event: its key row,
// written (or queued) for the first, is pointed at the process after.
TEST_F(StoreTest, AnExecAfterAnotherTypedEventOfItsAuditEventStillKeysItsProcess) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  SecurityEvent change;
  change.kind = SecurityKind::kPrivilegeChange;
  EventBatch events = {Event(kT0, 9, 700, "/usr/bin/sudo", change),
                       Exec(kT0, 9, 700, "/usr/bin/sudo", {"sudo", "id"})};
  ASSERT_TRUE(store->Add(&events, 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path,
                   "SELECT count(*) FROM audit_events a JOIN processes p "
                   "ON p.process_id = a.process_id WHERE p.exe = '/usr/bin/sudo' "
                   "AND p.placeholder = 0"),
            "1");
}

TEST_F(StoreTest, BatchesCommitByRowsAndByDelay) {
  EventStoreOptions options;
  options.batch_max_rows = 6;  // an event is 2 rows (its audit key and itself)
  options.batch_write_delay_ms = 1000;
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store);
  auto count = [&] { return Scalar(path, "SELECT count(*) FROM file_events"); };

  ASSERT_TRUE(
      AddAll(store.get(), {File(kT0, 1, 1, "/bin/x", FileOperation::kWrite, "/a")}, /*now=*/0)
          .ok());
  EXPECT_EQ(count(), "0");  // placeholder + key + event: 3 rows, under the bound
  ASSERT_TRUE(store->Tick(999).ok());
  EXPECT_EQ(count(), "0");
  ASSERT_TRUE(store->Tick(1000).ok());
  EXPECT_EQ(count(), "1");  // the delay passed

  ASSERT_TRUE(AddAll(store.get(),
                     {File(kT0 + 1, 2, 1, "/bin/x", FileOperation::kWrite, "/b"),
                      File(kT0 + 2, 3, 1, "/bin/x", FileOperation::kWrite, "/c"),
                      File(kT0 + 3, 4, 1, "/bin/x", FileOperation::kWrite, "/d"),
                      File(kT0 + 4, 5, 1, "/bin/x", FileOperation::kWrite, "/e")},
                     /*now=*/2000)
                  .ok());
  EXPECT_EQ(count(), "4");  // 6 rows filled a batch; the last event waits
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(count(), "5");
  EXPECT_GE(store->counters().commits, 3u);
}

TEST_F(StoreTest, ZeroDelayCommitsEveryAdd) {
  EventStoreOptions options;
  options.batch_write_delay_ms = 0;
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddAll(store.get(), {File(kT0, 1, 1, "/bin/x", FileOperation::kWrite, "/a")}).ok());
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM file_events"), "1");
}

TEST_F(StoreTest, RunStatsAreReadableThroughTheRunsView) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  auto run_id = store->BeginRun("live:netlink", kT0);
  ASSERT_TRUE(run_id.ok());
  ASSERT_TRUE(AddAll(store.get(), SampleEvents()).ok());
  RunStats stats;
  stats.lines = 40;
  stats.records = 39;
  stats.malformed = 1;
  stats.kernel_lost = 12;
  stats.dropped_queue_full = 3;
  ASSERT_TRUE(store->RecordRunStats(stats, kT0 + 5000).ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> runs = Query(path, "SELECT * FROM runs");
  ASSERT_EQ(runs.size(), 1u);
  const Row& r = runs[0];
  ExpectColumns(r, {
                       {"run_id", std::to_string(*run_id)},
                       {"source", "live:netlink"},
                       {"start_time_utc", "2023-11-14T22:13:20.123Z"},
                       {"end_time", std::to_string(kT0 + 5000)},
                       {"lines", "40"},
                       {"malformed", "1"},
                       {"process_starts", "1"},
                       {"process_ends", "1"},
                       {"file_events", "2"},
                       {"events_stored", "4"},
                       {"placeholder_processes", "1"},
                       {"kernel_lost", "12"},
                       {"events_lost", "15"},
                       {"error", "NULL"},
                   });
}

// A path left relative (docs/normalization.md): flagged, with its
// directory's st_dev and inode when known; counted in the run.
TEST_F(StoreTest, UnresolvedPathsKeepTheirDirectoryAndAreCounted) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->BeginRun("replay", kT0).ok());
  TypedEvent rm = File(kT0, 1, 7, "/usr/bin/rm", FileOperation::kDelete, "deeper/secret.txt");
  PathOrigin& o = std::get<FileEvent>(rm.body).path_origin;
  o.unresolved = true;
  o.dir_dev = 0xfe00;
  o.dir_inode = 1098723;
  TypedEvent mv = File(kT0 + 1, 2, 7, "/usr/bin/mv", FileOperation::kRename, "/w/a", "b");
  std::get<FileEvent>(mv.body).new_path_origin.unresolved = true;  // no directory known
  TypedEvent plain = File(kT0 + 2, 3, 7, "/usr/bin/rm", FileOperation::kDelete, "/w/c");
  ASSERT_TRUE(AddAll(store.get(), {rm, mv, plain}).ok());
  ASSERT_TRUE(store->RecordRunStats(RunStats(), kT0 + 10).ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> rows = Query(path,
                                "SELECT path, path_unresolved, path_dir_dev, path_dir_inode, "
                                "new_path, new_path_unresolved, new_path_dir_dev, "
                                "new_path_dir_inode FROM file_events ORDER BY time");
  ASSERT_EQ(rows.size(), 3u);
  ExpectColumns(rows[0], {
                             {"path", "deeper/secret.txt"},
                             {"path_unresolved", "1"},
                             {"path_dir_dev", std::to_string(0xfe00)},
                             {"path_dir_inode", "1098723"},
                             {"new_path_unresolved", "0"},
                         });
  ExpectColumns(rows[1], {
                             {"path_unresolved", "0"},
                             {"path_dir_inode", "NULL"},
                             {"new_path", "b"},
                             {"new_path_unresolved", "1"},
                             {"new_path_dir_dev", "NULL"},
                         });
  EXPECT_EQ(rows[2].at("path_unresolved"), "0");
  EXPECT_EQ(rows[2].at("new_path_unresolved"), "0");
  EXPECT_EQ(Scalar(path, "SELECT unresolved_paths FROM runs"), "2");
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM file_data WHERE path_unresolved IS NOT NULL"), "1");
}

// A connect whose local port the live lookup could not find: stored
// without one, counted in the run.
TEST_F(StoreTest, UnresolvedPortsAreCounted) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->BeginRun("live:unicast", kT0).ok());
  NetworkEvent gone;
  gone.family = AddressFamily::kInet;
  gone.remote_address = "127.0.0.1";
  gone.remote_port = 8080;
  gone.local_unresolved = true;
  NetworkEvent found = gone;
  found.local_unresolved = false;
  found.local_address = "127.0.0.1";
  found.local_port = 40000;
  ASSERT_TRUE(AddAll(store.get(), {Event(kT0, 1, 7, "/usr/bin/curl", gone),
                                   Event(kT0 + 1, 2, 7, "/usr/bin/curl", found)})
                  .ok());
  ASSERT_TRUE(store->RecordRunStats(RunStats(), kT0 + 10).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT unresolved_ports FROM runs"), "1");
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM network_events WHERE local_port IS NULL"), "1");
  EXPECT_EQ(Scalar(path, "SELECT local_port FROM network_events WHERE local_port IS NOT NULL"),
            "40000");
}

// An address-less accept whose accepted socket was gone: its remote side
// is empty and the row counts as unresolved too.
TEST_F(StoreTest, AnAcceptWithoutItsRemoteSideIsCountedUnresolved) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->BeginRun("live:unicast", kT0).ok());
  NetworkEvent accept;
  accept.direction = NetworkDirection::kInbound;
  accept.protocol = NetworkProtocol::kTcp;
  accept.family = AddressFamily::kInet;
  accept.local_address = "127.0.0.1";
  accept.local_port = 22;
  accept.remote_unresolved = true;
  ASSERT_TRUE(AddAll(store.get(), {Event(kT0, 1, 7, "/usr/sbin/sshd", accept)}).ok());
  ASSERT_TRUE(store->RecordRunStats(RunStats(), kT0 + 10).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT unresolved_ports FROM runs"), "1");
  EXPECT_EQ(Scalar(path,
                   "SELECT local_port || ' ' || coalesce(remote_address, 'NULL') FROM "
                   "network_events"),
            "22 NULL");
}

// How each DNS query's process was found, as text; those without one are
// counted in the run.
TEST_F(StoreTest, DnsAttributionIsStoredAndUnattributedQueriesCounted) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->BeginRun("live:unicast", kT0).ok());
  auto query = [](std::string name, DnsAttribution attribution) {
    DnsEvent d;
    d.query = std::move(name);
    d.family = AddressFamily::kInet;
    d.server_address = "127.0.0.53";
    d.server_port = 53;
    d.attribution = attribution;
    return d;
  };
  ASSERT_TRUE(
      AddAll(store.get(),
             {Event(kT0, 0, 7, "/usr/bin/getent", query("a.test", DnsAttribution::kSocket)),
              Event(kT0 + 1, 0, 8, "/usr/bin/dig", query("b.test", DnsAttribution::kLocalPort)),
              Event(kT0 + 2, 0, 0, "", query("c.test", DnsAttribution::kNone))})
          .ok());
  ASSERT_TRUE(store->RecordRunStats(RunStats(), kT0 + 10).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path,
                   "SELECT group_concat(query || ':' || attribution || ':' || "
                   "coalesce(pid, 'NULL'), ' ') FROM (SELECT * FROM dns_events ORDER BY time)"),
            "a.test:socket:7 b.test:local_port:8 c.test:none:NULL");
  EXPECT_EQ(Scalar(path, "SELECT dns_events || ' ' || dns_unattributed FROM runs"), "3 1");
}

TypedEvent Enriched(TypedEvent e, int64_t start_ms, int64_t parent_start_ms) {
  e.enrichment.user = "alice";
  e.enrichment.euser = "root";
  e.enrichment.login_user = "bob";
  e.enrichment.process_start_ms = start_ms;
  e.enrichment.parent_start_ms = parent_start_ms;
  return e;
}

// With few instances kept in memory, a parent's instance is looked up in
// audit_events, whose newest keys may still be waiting to be written.
TEST_F(StoreEnrichmentTest, ParentLookupInTheDatabaseSeesKeysNotYetWritten) {
  EventStoreOptions options;
  options.max_tracked_processes = 1;  // 2 instances in memory
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store);
  EventBatch events = {Enriched(Exec(kT0, 1, 500, "/bin/bash", {"bash"}), kT0, -1)};
  for (int i = 1; i <= 4; ++i)  // other processes push bash out of memory
    events.push_back(Enriched(Exec(kT0 + i, 1 + i, 600 + i, "/bin/x", {"x"}), kT0 + i, -1));
  events.push_back(
      Enriched(Exec(kT0 + 10, 10, 501, "/bin/ls", {"ls"}, /*ppid=*/500), kT0 + 10, kT0));
  ASSERT_TRUE(store->Add(&events, 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path,
                   "SELECT c.parent_process_id = p.process_id FROM processes c, "
                   "processes p WHERE c.exe = '/bin/ls' AND p.exe = '/bin/bash'"),
            "1");
}

// A parent looked up and not found is remembered as missing for the
// transaction; once the store writes that instance, children find it.
TEST_F(StoreEnrichmentTest, AParentMissingAtFirstIsFoundOnceItIsWritten) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  const int64_t kParentStart = kT0 - 5000;
  EventBatch events = {
      // Its parent (pid 700, started before recording) has no row yet.
      Enriched(Exec(kT0, 1, 501, "/bin/ls", {"ls"}, 700), kT0, kParentStart),
      // Now it has: a placeholder carrying that start.
      Enriched(File(kT0 + 1, 2, 700, "/bin/sh", FileOperation::kWrite, "/s"), kParentStart, -1),
      Enriched(Exec(kT0 + 2, 3, 502, "/bin/id", {"id"}, 700), kT0 + 2, kParentStart)};
  ASSERT_TRUE(store->Add(&events, 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT parent_process_id FROM processes WHERE exe = '/bin/ls'"), "NULL");
  EXPECT_EQ(Scalar(path,
                   "SELECT c.parent_process_id = p.process_id FROM processes c, "
                   "processes p WHERE c.exe = '/bin/id' AND p.pid = 700"),
            "1");
}

TEST_F(StoreEnrichmentTest, NamesAndHashesReachTheViews) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  TypedEvent exec = Enriched(Exec(kT0, 1, 100, "/bin/a", {"a"}), kT0, -1);
  exec.enrichment.exe_sha256 = std::string(64, 'e');
  exec.enrichment.exe_md5 = std::string(32, 'd');
  TypedEvent file = Enriched(File(kT0 + 1, 2, 100, "/bin/a", FileOperation::kWrite, "/f"), kT0, -1);
  file.enrichment.user = "carol";  // the event's own uid may differ from the exec's
  ASSERT_TRUE(AddAll(store.get(), {exec, file}).ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> p =
      Query(path, "SELECT user, euser, login_user, sha256, md5, hash_note FROM processes");
  ASSERT_EQ(p.size(), 1u);
  ExpectColumns(p[0], {
                          {"user", "alice"},
                          {"euser", "root"},
                          {"login_user", "bob"},
                          {"sha256", std::string(64, 'e')},
                          {"md5", std::string(32, 'd')},
                          {"hash_note", "NULL"},
                      });
  EXPECT_EQ(Scalar(path, "SELECT user FROM file_events"), "carol");
}

TEST_F(StoreEnrichmentTest, ParentIsTheInstanceTheEnrichStageNamesNotThePidsCurrentOne) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  // pid 700 was running before recording (seeded from /proc): its
  // placeholder carries the start, so children link to it.
  TypedEvent seeded =
      Enriched(File(kT0, 1, 700, "/bin/sh", FileOperation::kWrite, "/s"), kT0 - 5000, -1);
  ASSERT_TRUE(
      AddAll(store.get(),
             {
                 seeded,
                 Enriched(Exec(kT0 + 1, 2, 500, "/bin/bash", {"bash"}, 700), kT0 + 1, kT0 - 5000),
                 // bash forks 501 then execs itself into /bin/x
                 Enriched(Exec(kT0 + 3, 3, 500, "/bin/x", {"x"}, 700), kT0 + 3, kT0 - 5000),
                 // 501 execs after that: its parent is still the bash instance.
                 Enriched(Exec(kT0 + 5, 4, 501, "/bin/ls", {"ls"}, 500), kT0 + 5, kT0 + 1),
             })
          .ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> rows = Query(
      path, "SELECT process_id, exe, start_time, parent_process_id FROM processes ORDER BY 1");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("exe"), "/bin/sh");
  EXPECT_EQ(rows[0].at("start_time"), std::to_string(kT0 - 5000));
  EXPECT_EQ(rows[1].at("parent_process_id"), rows[0].at("process_id"));
  EXPECT_EQ(rows[2].at("parent_process_id"), rows[0].at("process_id"));
  EXPECT_EQ(rows[3].at("exe"), "/bin/ls");
  EXPECT_EQ(rows[3].at("parent_process_id"), rows[1].at("process_id"));  // bash, not /bin/x
}

// Process rows may still wait for the commit when their hash arrives:
// all of them, some, or none.
TEST_F(StoreEnrichmentTest, UpdateHashesFillsOnlyPendingRowsOfThatExe) {
  for (int written : {0, 2, 4}) {
    SCOPED_TRACE(fmt::format("{} of 4 rows written before the hashes", written));
    TempDir round;  // a fresh database each round
    const std::string db = round.File("monitor.db");
    auto store = OpenOrDie(db);
    ASSERT_TRUE(store);
    auto pending = [](TypedEvent e) {
      e.enrichment.hash_note = "pending";
      return e;
    };
    TypedEvent hashed = Exec(kT0 + 2, 3, 102, "/bin/a", {"a"});
    hashed.enrichment.exe_sha256 = "old";
    const EventBatch execs = {pending(Exec(kT0, 1, 100, "/bin/a", {"a"})),
                              pending(Exec(kT0 + 1, 2, 101, "/bin/b", {"b"})), hashed,
                              pending(Exec(kT0 + 3, 4, 103, "/bin/a", {"a", "2"}))};
    for (int i = 0; i < 4; ++i) {
      if (i == written) {
        ASSERT_TRUE(store->Flush().ok());
      }
      ASSERT_TRUE(AddAll(store.get(), {execs[i]}).ok());
    }
    if (written == 4) {
      ASSERT_TRUE(store->Flush().ok());
    }
    Result<int64_t> changed = store->UpdateHashes("/bin/a", "sha-a", "md5-a", "");
    ASSERT_TRUE(changed.ok()) << changed.status().message();
    EXPECT_EQ(*changed, 2);
    Result<int64_t> again = store->UpdateHashes("/bin/a", "x", "y", "");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, 0);
    Result<int64_t> unreadable = store->UpdateHashes("/bin/b", "", "", "unreadable: EACCES");
    ASSERT_TRUE(unreadable.ok());
    EXPECT_EQ(*unreadable, 1);
    ASSERT_TRUE(store->Flush().ok());
    std::vector<Row> rows =
        Query(db, "SELECT pid, sha256, md5, hash_note FROM processes ORDER BY pid");
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].at("sha256"), "sha-a");
    EXPECT_EQ(rows[0].at("md5"), "md5-a");
    EXPECT_EQ(rows[0].at("hash_note"), "NULL");
    EXPECT_EQ(rows[1].at("sha256"), "NULL");
    EXPECT_EQ(rows[1].at("hash_note"), "unreadable: EACCES");
    EXPECT_EQ(rows[2].at("sha256"), "old");
    EXPECT_EQ(rows[3].at("sha256"), "sha-a");
  }
}

// Process rows wait until the commit and an exit completes a waiting
// row; an exit after the commit updates the written one. Both must read
// the same, across commits, reopened stores and a queue that overflowed.
TEST_F(StoreTest, ExitsCompleteWaitingProcessRowsOrUpdateWrittenOnes) {
  // Past the queue's bound: it writes early.
  const int kExecs = static_cast<int>(EventStore::kMaxPendingProcesses) + 100;
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    EventBatch execs;
    for (int i = 0; i < kExecs; ++i)
      execs.push_back(Exec(kT0 + i, 1 + i, 1000 + i, "/bin/a", {"a"}));
    ASSERT_TRUE(store->Add(&execs, 0).ok());
    EventBatch exits;  // in the same transaction: written rows and waiting ones
    for (int i = 0; i < kExecs; i += 2)
      exits.push_back(Exit(kT0 + kExecs + i, 1 + kExecs + i, 1000 + i, "/bin/a", i % 256));
    ASSERT_TRUE(store->Add(&exits, 0).ok());
    ASSERT_TRUE(store->Flush().ok());
    // After the commit: every row is written.
    EventBatch late = {Exit(kT0 + 3 * kExecs, 1 + 3 * kExecs, 1001, "/bin/a", 7)};
    ASSERT_TRUE(store->Add(&late, 0).ok());
  }
  {
    // A new store numbers on from the stored rows.
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddAll(store.get(), {Exec(kT0 + 4 * kExecs, 1 + 4 * kExecs, 77, "/bin/b", {"b"}),
                                     Exit(kT0 + 4 * kExecs + 1, 2 + 4 * kExecs, 77, "/bin/b", 3)})
                    .ok());
  }
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM processes"), std::to_string(kExecs + 1));
  EXPECT_EQ(Scalar(path, "SELECT max(process_id) - min(process_id) + 1 FROM processes"),
            std::to_string(kExecs + 1));
  EXPECT_EQ(Scalar(path,
                   "SELECT count(*) FROM processes WHERE exe = '/bin/a' AND "
                   "end_time IS NOT NULL"),
            std::to_string(kExecs / 2 + 1));
  // Each exit is on its own process: the code and time it was given.
  EXPECT_EQ(Scalar(path,
                   "SELECT count(*) FROM processes WHERE exe = '/bin/a' AND pid % 2 = 0 "
                   "AND exit_code = (pid - 1000) % 256 AND end_time = " +
                       std::to_string(kT0 + kExecs) + " + pid - 1000"),
            std::to_string(kExecs / 2));
  EXPECT_EQ(Scalar(path, "SELECT exit_code || '@' || (end_time - " + std::to_string(kT0) +
                             ") FROM processes WHERE pid = 1001"),
            "7@" + std::to_string(3 * kExecs));
  EXPECT_EQ(Scalar(path, "SELECT exit_code FROM processes WHERE exe = '/bin/b'"), "3");
}

// A trigger stands in for a failing disk: writing a file_data row of
// `failing_path` fails, and with it the transaction's COMMIT.
void FailWritesOfPath(const std::string& db_path, const std::string& failing_path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  const std::string sql = fmt::format(
      "INSERT INTO strings(value) VALUES ('{0}');"
      "CREATE TRIGGER boom BEFORE INSERT ON file_data WHEN NEW.path_id = "
      "(SELECT id FROM strings WHERE value = '{0}') "
      "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;",
      failing_path);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// A write that fails mid-batch rolls the whole batch back: the rows still
// queued in the store go with it, and so do the ids it handed out (string
// ids in its cache, process ids in its maps), while what earlier batches
// committed stays known.
TEST_F(StoreTest, AFailedBatchLeavesNothingQueuedOrCachedBehind) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddAll(store.get(), {Enriched(Exec(kT0, 1, 100, "/bin/a", {"a"}), kT0, -1)}).ok());
  ASSERT_TRUE(store->Flush().ok());
  FailWritesOfPath(path, "/boom");
  const EventBatch good = {
      Enriched(Exec(kT0 + 1, 2, 200, "/bin/b", {"b"}, 100), kT0 + 1, kT0),
      Enriched(File(kT0 + 2, 3, 200, "/bin/b", FileOperation::kWrite, "/ok"), kT0 + 1, kT0)};
  EventBatch failing = good;
  failing.push_back(
      Enriched(File(kT0 + 3, 4, 200, "/bin/b", FileOperation::kWrite, "/boom"), kT0 + 1, kT0));
  failing.push_back(Enriched(Exit(kT0 + 4, 5, 200, "/bin/b", 0), kT0 + 1, kT0));
  ASSERT_TRUE(store->Add(&failing, 0).ok());  // queued: nothing is written yet
  Status failed = store->Flush();
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.message(), HasSubstr("disk on fire"));
  EXPECT_THAT(failed.message(), HasSubstr(path));
  // First a child of the lost /bin/b (pid 200): its parent's row was never
  // written, so it has none. Not the lost process_id 2 from the pid map or
  // the instance map: the child itself takes that id now. Then the same
  // events again without the failing ones.
  EventBatch again = {Enriched(Exec(kT0 + 5, 6, 300, "/bin/c", {"c"}, 200), kT0 + 5, kT0 + 1)};
  for (const TypedEvent& event : good) again.push_back(event);
  ASSERT_TRUE(store->Add(&again, 0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path,
                   "SELECT group_concat(process_id || ':' || exe || ':' || "
                   "coalesce(parent_process_id, '-'), ',') FROM "
                   "(SELECT * FROM processes ORDER BY process_id)"),
            "1:/bin/a:-,2:/bin/c:-,3:/bin/b:1");
  EXPECT_EQ(Scalar(path, "SELECT group_concat(path, ',') FROM file_events"), "/ok");
  EXPECT_EQ(Scalar(path, "SELECT end_time FROM processes WHERE pid = 200"), "NULL");
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM audit_events"), "4");
}

// A rollback takes back only what its transaction taught the store: the
// process rows committed before it still receive their pids' events.
TEST_F(StoreTest, ARolledBackBatchForgetsOnlyWhatItWrote) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddAll(store.get(), {Exec(kT0, 1, 100, "/bin/a", {"a"})}).ok());
  ASSERT_TRUE(store->Flush().ok());
  FailWritesOfPath(path, "/boom");
  ASSERT_TRUE(AddAll(store.get(), {Exec(kT0 + 1, 2, 200, "/bin/b", {"b"}),
                                   File(kT0 + 2, 3, 200, "/bin/b", FileOperation::kWrite, "/boom")})
                  .ok());
  ASSERT_FALSE(store->Flush().ok());
  ASSERT_TRUE(
      AddAll(store.get(), {File(kT0 + 3, 4, 100, "/bin/a", FileOperation::kWrite, "/ok"),
                           File(kT0 + 4, 5, 200, "/bin/b", FileOperation::kWrite, "/lost-exec")})
          .ok());
  ASSERT_TRUE(store->Flush().ok());
  // pid 100 is still its exec's row; pid 200's exec was rolled back, so
  // its event gets a placeholder (not the lost row's id).
  EXPECT_EQ(Scalar(path,
                   "SELECT group_concat(process_id || ':' || exe || ':' || placeholder, ',') "
                   "FROM (SELECT * FROM processes ORDER BY process_id)"),
            "1:/bin/a:0,2:/bin/b:1");
  EXPECT_EQ(Scalar(path, "SELECT process_id FROM file_events WHERE path = '/ok'"), "1");
  EXPECT_EQ(Scalar(path, "SELECT process_id FROM file_events WHERE path = '/lost-exec'"), "2");
  EXPECT_EQ(store->counters().placeholder_processes, 1u);
}

// A hash update in a batch that is then rolled back is undone with it:
// the rows wait for their hash again, and the next update fills them.
TEST_F(StoreEnrichmentTest, AHashUpdateRolledBackIsMadeAgainByTheNextOne) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  TypedEvent exec = Exec(kT0, 1, 100, "/bin/a", {"a"});
  exec.enrichment.hash_note = "pending";
  ASSERT_TRUE(AddAll(store.get(), {exec}).ok());
  ASSERT_TRUE(store->Flush().ok());
  FailWritesOfPath(path, "/boom");
  Result<int64_t> first = store->UpdateHashes("/bin/a", "sha-1", "md5-1", "");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, 1);
  ASSERT_TRUE(
      AddAll(store.get(), {File(kT0 + 1, 2, 100, "/bin/a", FileOperation::kWrite, "/boom")}).ok());
  ASSERT_FALSE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT hash_note FROM processes WHERE pid = 100"), "pending");
  Result<int64_t> second = store->UpdateHashes("/bin/a", "sha-2", "md5-2", "");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(*second, 1);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT sha256 || '/' || coalesce(hash_note, '-') FROM processes"),
            "sha-2/-");
}

// Two writers on one database (the daemon and a replay): each numbers its
// process rows from what is stored when its transaction begins.
TEST_F(StoreTest, TwoStoresTakingTurnsNeverReuseAProcessId) {
  auto a = OpenOrDie(path);
  auto b = OpenOrDie(path);
  ASSERT_TRUE(a && b);
  for (int round = 0; round < 3; ++round) {
    EventStore* store = round % 2 == 0 ? a.get() : b.get();
    ASSERT_TRUE(AddAll(store, {Exec(kT0 + round, 1 + round, 100 + round, "/bin/x", {"x"})}).ok());
    ASSERT_TRUE(store->Flush().ok());
  }
  EXPECT_EQ(Scalar(path, "SELECT count(DISTINCT process_id) || '/' || count(*) FROM processes"),
            "3/3");
}

TEST_F(StoreEnrichmentTest, ExitAfterARestartFindsTheRowOfTheEarlierRun) {
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(
        AddAll(store.get(), {Enriched(Exec(kT0, 1, 400, "/bin/sleep", {"sleep", "30"}), kT0, -1)})
            .ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  // The restarted recorder's process table (loaded from its state file)
  // knows the instance's start; the new store has nothing in memory.
  ASSERT_TRUE(AddAll(store.get(), {Enriched(Exit(kT0 + 30000, 2, 400, "/bin/sleep", 0), kT0, -1),
                                   Enriched(Exec(kT0 + 30001, 3, 401, "/bin/true", {"true"}, 400),
                                            kT0 + 30001, kT0)})
                  .ok());
  ASSERT_TRUE(store->Flush().ok());
  std::vector<Row> rows =
      Query(path,
            "SELECT process_id, end_time, placeholder, parent_process_id FROM processes "
            "ORDER BY 1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("end_time"), std::to_string(kT0 + 30000));
  EXPECT_EQ(rows[0].at("placeholder"), "0");
  EXPECT_EQ(rows[1].at("parent_process_id"), rows[0].at("process_id"));
  EXPECT_EQ(store->counters().placeholder_processes, 0u);
}

TEST(StoreOpenTest, NewerSchemaIsAClearErrorAndLeavesTheFileAlone) {
  TempDir dir;
  std::string path = dir.File("monitor.db");
  ASSERT_TRUE(OpenOrDie(path));
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("99"));
  EXPECT_THAT(store.status().message(), HasSubstr(fmt::format("version {}", kSchemaVersion)));
  EXPECT_EQ(Scalar(path, "PRAGMA user_version"), "99");
  EXPECT_EQ(Scalar(path, "PRAGMA integrity_check"), "ok");
}

TEST(StoreOpenTest, FileThatIsNotADatabaseIsRefusedUnchanged) {
  TempDir dir;
  std::string path = dir.File("notes.txt");
  const std::string content(4096, 'x');
  std::ofstream(path) << content;
  auto store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));
  std::ifstream in(path);
  std::string after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, content);
}

TEST(StoreOpenTest, SomeoneElsesSqliteDatabaseIsRefused) {
  TempDir dir;
  std::string path = dir.File("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("not a recorder database"));
  EXPECT_EQ(Scalar(path, "SELECT group_concat(name) FROM sqlite_schema"), "t");
  EXPECT_EQ(Scalar(path, "PRAGMA integrity_check"), "ok");
}

TEST(StoreOpenTest, MissingDirectoryIsNamed) {
  TempDir dir;
  std::string path = dir.File("no/such/dir/monitor.db");
  auto store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(path));
  EXPECT_THAT(store.status().message(), HasSubstr("does not exist"));
}

TEST(StoreOpenTest, DirectoryThatCannotBeWrittenIsAnError) {
  // Root ignores permission bits; /proc refuses new files even to root.
  auto store = EventStore::Open("/proc/recorder-store-test.db");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("/proc/recorder-store-test.db"));
  EXPECT_FALSE(std::filesystem::exists("/proc/recorder-store-test.db"));
}

TEST(StoreOpenTest, PathUnderARegularFileIsAnError) {
  TempDir dir;
  std::string file = dir.File("plain");
  std::ofstream(file) << "x";
  auto store = EventStore::Open(file + "/monitor.db");
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("not a directory"));
}

TEST_F(StoreTest, ReaderWhileWritingSeesCountsThatNeverDecrease) {
  EventStoreOptions options;
  options.batch_write_delay_ms = 0;
  auto store = OpenOrDie(path, options);
  ASSERT_TRUE(store);

  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string reader_error;
  std::thread reader([&] {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(db, 5000);
    int64_t last = 0;
    while (!done.load() || reads.load() < 3) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(
          db, "SELECT (SELECT count(*) FROM file_events), (SELECT count(*) FROM audit_events)", -1,
          &stmt, nullptr);
      if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
      if (rc != SQLITE_ROW) {
        reader_error = sqlite3_errmsg(db);
        sqlite3_finalize(stmt);
        break;
      }
      int64_t files = sqlite3_column_int64(stmt, 0);
      int64_t keys = sqlite3_column_int64(stmt, 1);
      sqlite3_finalize(stmt);
      // Consistent snapshot: every stored event has its audit key.
      if (files != keys || files < last) {
        reader_error =
            fmt::format("inconsistent read: {} events, {} keys, last {}", files, keys, last);
        break;
      }
      last = files;
      ++reads;
    }
    sqlite3_close(db);
  });
  constexpr int kBatches = 200;
  for (int b = 0; b < kBatches; ++b) {
    EventBatch events;
    for (int i = 0; i < 50; ++i) {
      uint64_t serial = static_cast<uint64_t>(b * 50 + i + 1);
      events.push_back(File(kT0 + static_cast<int64_t>(serial), serial, 1, "/bin/x",
                            FileOperation::kWrite, "/f" + std::to_string(i)));
    }
    Status status = store->Add(&events, b);
    ASSERT_TRUE(status.ok()) << status.message();
  }
  done = true;
  reader.join();
  EXPECT_EQ(reader_error, "");
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM file_events"), std::to_string(kBatches * 50));
}

TEST(StringInternerTest, ShellJoinQuotesLikeAPosixShell) {
  EXPECT_EQ(ShellJoin({"ls", "-la", "/tmp"}), "ls -la /tmp");
  EXPECT_EQ(ShellJoin({"echo", "a b", "", "it's", "$HOME", "tab\there"}),
            "echo 'a b' '' 'it'\\''s' '$HOME' 'tab\there'");
}

TEST(StringInternerTest, ArgvJsonKeepsOrderAndEscapes) {
  EXPECT_EQ(ArgvJson({"a", "b\"c", "new\nline"}), R"(["a","b\"c","new\nline"])");
  // Not UTF-8: replaced, still valid JSON.
  EXPECT_EQ(ArgvJson({std::string("\xff")}), "[\"\xef\xbf\xbd\"]");
}

TEST(StringInternerTest, InternsOncePerDistinctString) {
  TempDir dir;
  std::string path = dir.File("monitor.db");
  ASSERT_TRUE(OpenOrDie(path));
  auto db = Database::Open(path, SQLITE_OPEN_READWRITE);
  ASSERT_TRUE(db.ok());
  auto interner = StringInterner::Create(db->get(), /*cache_bytes=*/256);
  ASSERT_TRUE(interner.ok());
  auto a = (*interner)->Intern("/usr/bin/a");
  auto b = (*interner)->Intern("/usr/bin/b");
  auto a2 = (*interner)->Intern("/usr/bin/a");
  ASSERT_TRUE(a.ok() && b.ok() && a2.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(*a, *a2);
  EXPECT_EQ(*(*interner)->Intern(""), 0);
  // A cache far smaller than the strings still returns the stored ids.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*interner)->Intern("/p/" + std::to_string(i)).ok());
  EXPECT_EQ(*(*interner)->Intern("/usr/bin/a"), *a);
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM strings"), "52");
}

TEST_F(StoreEnrichmentTest, PendingHashesOfAnEarlierRunAreAdoptedAndFilled) {
  auto pending = [](TypedEvent e) {
    e.enrichment.hash_note = "pending";
    return e;
  };
  {
    // The earlier run stopped before its hash worker finished.
    auto store = OpenOrDie(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddAll(store.get(), {pending(Exec(kT0, 1, 100, "/bin/a", {"a"})),
                                     pending(Exec(kT0 + 1, 2, 101, "/bin/b", {"b"})),
                                     pending(Exec(kT0 + 2, 3, 102, "/bin/a", {"a", "2"}))})
                    .ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  // Not adopted yet: this store wrote none of them.
  Result<int64_t> before = store->UpdateHashes("/bin/a", "sha-a", "md5-a", "");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, 0);
  Result<std::vector<std::string>> exes = store->AdoptPendingHashes();
  ASSERT_TRUE(exes.ok()) << exes.status().message();
  EXPECT_THAT(*exes, ::testing::UnorderedElementsAre("/bin/a", "/bin/b"));
  Result<int64_t> a = store->UpdateHashes("/bin/a", "sha-a", "md5-a", "");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 2);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Scalar(path, "SELECT count(*) FROM processes WHERE sha256 = 'sha-a'"), "2");
  EXPECT_EQ(Scalar(path, "SELECT hash_note FROM processes WHERE exe = '/bin/b'"), "pending");
  // Only the recent rows are looked at.
  Result<std::vector<std::string>> none = store->AdoptPendingHashes(/*recent_rows=*/0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreImageTest, ImageLoadsJoinTheirProcessAndAreNeverDeduplicated) {
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store);
  auto load = [](int64_t time_ms, int32_t pid, std::string library, std::string sha256) {
    ImageLoadEvent body;
    body.path = std::move(library);
    body.sha256 = std::move(sha256);
    TypedEvent e = Event(time_ms, /*serial=*/0, pid, "/usr/bin/python3.11", body);
    e.enrichment.user = "alice";
    return e;
  };
  ASSERT_TRUE(
      AddAll(store.get(), {Exec(kT0, 1, 300, "/usr/bin/python3.11", {"python3", "-c", "x"}),
                           load(kT0 + 5, 300, "/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4", "abc"),
                           // Same time, same (zero) serial: still its own row.
                           load(kT0 + 5, 300, "/usr/lib/x86_64-linux-gnu/libc.so.6", ""),
                           // A pid never seen exec'ing: a placeholder process.
                           load(kT0 + 6, 301, "/usr/lib/x86_64-linux-gnu/libm.so.6", "def")})
          .ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(store->counters().image_events, 3u);
  EXPECT_EQ(store->counters().duplicates, 0u);
  std::vector<Row> rows =
      Query(path,
            "SELECT i.pid, i.exe, i.user, i.path, i.sha256, i.uid, i.time_utc, "
            "p.placeholder, p.cmdline FROM image_events i JOIN processes p USING (process_id) "
            "ORDER BY i.path");
  ASSERT_EQ(rows.size(), 3u);
  ExpectColumns(rows[0], {
                             {"path", "/usr/lib/x86_64-linux-gnu/libbz2.so.1.0.4"},
                             {"sha256", "abc"},
                             {"exe", "/usr/bin/python3.11"},
                             {"user", "alice"},
                             {"uid", "1000"},
                             {"placeholder", "0"},
                             {"cmdline", "python3 -c x"},
                             {"time_utc", "2023-11-14T22:13:20.128Z"},
                         });
  EXPECT_EQ(rows[1].at("path"), "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(rows[1].at("sha256"), "NULL");
  EXPECT_EQ(rows[2].at("pid"), "301");
  EXPECT_EQ(rows[2].at("placeholder"), "1");
}

// dns_data.response as the store writes it and hunts read it back.
TEST(DnsResponseTest, AddressesComeBackAsWritten) {
  std::string response;
  for (std::string_view address : {"10.0.0.1", "::1", "192.0.2.7"})
    AppendDnsResponseAddress(&response, address);
  EXPECT_EQ(response, "10.0.0.1, ::1, 192.0.2.7");
  std::vector<std::string> back;
  ForEachDnsResponseAddress(response, [&](std::string_view a) { back.emplace_back(a); });
  EXPECT_THAT(back, ::testing::ElementsAre("10.0.0.1", "::1", "192.0.2.7"));
  back.clear();
  ForEachDnsResponseAddress("", [&](std::string_view a) { back.emplace_back(a); });
  EXPECT_TRUE(back.empty());
}

}  // namespace
}  // namespace recorder::store
