// EnrichingSink: fills TypedEvent::enrichment and forwards everything.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "enrich/enriching_sink.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

class CaptureSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (TypedEvent& e : *events) events_.push_back(std::move(e));
    ++batches_;
    return Status::Ok();
  }
  Status Flush() override {
    ++flushes_;
    return Status::Ok();
  }
  EventBatch events_;
  int batches_ = 0;
  int flushes_ = 0;
};

class EnrichingSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Write("proc/stat", "btime 1700000000\n");
    // bash(200) under init(1); ticks since boot 100/s.
    AddProc(1, 0, 1, "/sbin/init");
    AddProc(200, 1, 5000, "/usr/bin/bash");
    Write("passwd", "root:x:0:0::/:/bin/sh\nalice:x:1000:1000::/:/bin/sh\n");
    Write("group", "root:x:0:\n");
    Write("bin/tool", std::string(300'000, 'x'));
    ProcessTableOptions table_options;
    table_options.proc_root = (dir_ / "proc").string();
    table_ = std::make_unique<ProcessTable>(table_options);
    ASSERT_TRUE(table_->SeedFromProc(kNow).ok());
    UserNamesOptions user_options;
    user_options.passwd_path = (dir_ / "passwd").string();
    user_options.group_path = (dir_ / "group").string();
    users_ = std::make_unique<UserNames>(user_options);
    worker_ = std::make_unique<HashWorker>(&cache_);
    worker_->Start();
  }
  void TearDown() override { worker_->Stop(); }
  void Write(const std::string& name, const std::string& text) {
    fs::create_directories((dir_ / name).parent_path());
    std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
  }
  void AddProc(int pid, int ppid, int ticks, const std::string& exe) {
    std::string d = fmt::format("proc/{}/", pid);
    Write(d + "stat", fmt::format("{} (x) S {} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {} 1 0\n", pid,
                                  ppid, ticks));
    Write(d + "cmdline", exe + '\0');
    Write(d + "status", "Uid:\t0\t0\t0\t0\n");
    fs::create_symlink(exe, dir_ / d / "exe");
  }
  TypedEvent Event(int pid, int ppid, int64_t t, EventBody body) {
    TypedEvent e;
    e.header.time_ms = t;
    e.subject.pid = pid;
    e.subject.ppid = ppid;
    e.subject.uid = 1000;
    e.subject.euid = 0;
    e.subject.auid = 1000;
    e.subject.exe = (dir_ / "bin/tool").string();
    e.body = std::move(body);
    return e;
  }

  static constexpr int64_t kBootMs = 1'700'000'000'000;
  static constexpr int64_t kNow = kBootMs + 100'000;
  TempDir temp_{"enrich-sink"};
  fs::path dir_ = temp_.path();
  std::unique_ptr<ProcessTable> table_;
  std::unique_ptr<UserNames> users_;
  HashCache cache_;
  std::unique_ptr<HashWorker> worker_;
};

TEST_F(EnrichingSinkTest, FillsEnrichmentAndForwards) {
  CaptureSink capture;
  int64_t clock = kNow;
  EnrichingSink sink(&capture, table_.get(), users_.get(), worker_.get(), {},
                     [&] { return clock; });

  EventBatch batch;
  batch.push_back(Event(300, 200, kNow + 10, ProcessStart{{"tool", "-x"}, 2, false, "/", ""}));
  TypedEvent daemon = Event(1, 0, kNow + 11, FileEvent{});
  daemon.subject.uid = daemon.subject.euid = 0;
  daemon.subject.auid = kUnsetId;
  daemon.subject.exe.clear();
  batch.push_back(std::move(daemon));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 2u);

  const Enrichment& exec = capture.events_[0].enrichment;
  EXPECT_EQ(exec.user, "alice");
  EXPECT_EQ(exec.euser, "root");
  EXPECT_EQ(exec.login_user, "alice");
  EXPECT_EQ(exec.process_start_ms, kNow + 10);
  EXPECT_EQ(exec.parent_start_ms, kBootMs + 50'000);  // bash: 5000 ticks after boot
  EXPECT_EQ(exec.exe_sha256, "");
  EXPECT_EQ(exec.hash_note, "pending");
  EXPECT_EQ(std::get<ProcessStart>(capture.events_[0].body).argv[1], "-x");

  const Enrichment& init = capture.events_[1].enrichment;
  EXPECT_EQ(init.user, "root");
  EXPECT_EQ(init.login_user, "unset");
  EXPECT_EQ(init.process_start_ms, kBootMs + 10);
  EXPECT_EQ(init.parent_start_ms, -1);
  EXPECT_EQ(init.hash_note, "");  // no exe, nothing to hash

  // Once the worker is done, later events of the program carry the hash.
  ASSERT_TRUE(worker_->WaitIdle(10'000));
  FileKey key;
  FileHashes expected = HashFile((dir_ / "bin/tool").string(), -1, &key);
  batch.clear();
  batch.push_back(Event(300, 200, kNow + 20, NetworkEvent{}));
  batch.push_back(Event(300, 200, kNow + 30, ProcessEnd{3}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 4u);
  for (int i : {2, 3}) {
    const Enrichment& e = capture.events_[i].enrichment;
    EXPECT_EQ(e.exe_sha256, expected.sha256);
    EXPECT_EQ(e.exe_md5, expected.md5);
    EXPECT_EQ(e.hash_note, "");
    EXPECT_EQ(e.process_start_ms, kNow + 10);
  }
  EXPECT_EQ(table_->Lookup(300, kNow + 31), nullptr);  // the exit was applied
  EXPECT_EQ(sink.stats().events, 4u);
  EXPECT_EQ(sink.stats().hash_pending, 1u);
  EXPECT_EQ(sink.stats().hash_ready, 2u);

  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_EQ(capture.flushes_, 1);
  EXPECT_EQ(capture.batches_, 2);
}

TEST_F(EnrichingSinkTest, RunningInstanceKeepsItsHashWhenFileIsReplaced) {
  CaptureSink capture;
  EnrichingSink sink(&capture, table_.get(), users_.get(), worker_.get(), {}, [] { return kNow; });
  const std::string tool = (dir_ / "bin/tool").string();
  FileKey key;
  std::string old_sha = HashFile(tool, -1, &key).sha256;
  (void)worker_->Lookup(tool);
  ASSERT_TRUE(worker_->WaitIdle(10'000));

  EventBatch batch;
  batch.push_back(Event(300, 200, kNow + 1, ProcessStart{{"tool"}, 1, false, "/", ""}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  EXPECT_EQ(capture.events_[0].enrichment.exe_sha256, old_sha);

  // An upgrade replaces the file by rename while 300 still runs the old image.
  Write("bin/tool.new", std::string(1000, 'y'));
  fs::rename(dir_ / "bin/tool.new", tool);
  batch.clear();
  batch.push_back(Event(300, 200, kNow + 2, FileEvent{}));
  // A new exec of the path runs the new file: pending, then the new hash.
  batch.push_back(Event(301, 200, kNow + 3, ProcessStart{{"tool"}, 1, false, "/", ""}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  EXPECT_EQ(capture.events_[1].enrichment.exe_sha256, old_sha);
  EXPECT_EQ(capture.events_[2].enrichment.hash_note, "pending");
  ASSERT_TRUE(worker_->WaitIdle(10'000));
  batch.clear();
  batch.push_back(Event(301, 200, kNow + 4, FileEvent{}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  EXPECT_EQ(capture.events_[3].enrichment.exe_sha256, HashFile(tool, -1, &key).sha256);
  EXPECT_NE(capture.events_[3].enrichment.exe_sha256, old_sha);
}

TEST_F(EnrichingSinkTest, WithoutProcessTableOrHashesOnlyNames) {
  CaptureSink capture;
  EnrichingSink sink(&capture, nullptr, users_.get(), nullptr, {}, [] { return kNow; });
  EventBatch batch;
  batch.push_back(Event(300, 200, kNow, FileEvent{}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 1u);
  EXPECT_EQ(capture.events_[0].enrichment.user, "alice");
  EXPECT_EQ(capture.events_[0].enrichment.process_start_ms, -1);
  EXPECT_EQ(capture.events_[0].enrichment.hash_note, "");
}

// The user columns say the same thing for a process and its security
// events: the name when known, else the uid. Replay has no users table:
// the ids as text (not empty, which the store would keep as NULL).
TEST_F(EnrichingSinkTest, UserColumnsAreTheNameOrTheUidAlike) {
  CaptureSink capture;
  EnrichingSink replay(&capture, nullptr, nullptr, nullptr, {}, [] { return kNow; });
  SecurityEvent login;
  login.user = "1000";  // a raw record: the number only
  EventBatch batch;
  batch.push_back(Event(300, 200, kNow, FileEvent{}));
  batch.push_back(Event(300, 200, kNow + 1, login));
  batch[1].subject.auid = kUnsetId;
  ASSERT_TRUE(replay.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 2u);
  EXPECT_EQ(capture.events_[0].enrichment.user, "1000");
  EXPECT_EQ(capture.events_[0].enrichment.euser, "0");
  EXPECT_EQ(capture.events_[0].enrichment.login_user, "1000");
  EXPECT_EQ(capture.events_[1].enrichment.login_user, "unset");
  EXPECT_EQ(std::get<SecurityEvent>(capture.events_[1].body).user, "1000");

  // Live: names, for the security event's acting user too; a name the
  // record itself gave stays.
  CaptureSink live_capture;
  EnrichingSink live(&live_capture, nullptr, users_.get(), nullptr, {}, [] { return kNow; });
  SecurityEvent named;
  named.user = "alice-from-the-log";
  batch.clear();
  batch.push_back(Event(300, 200, kNow, login));
  batch.push_back(Event(300, 200, kNow + 1, named));
  ASSERT_TRUE(live.Consume(&batch).ok());
  ASSERT_EQ(live_capture.events_.size(), 2u);
  EXPECT_EQ(std::get<SecurityEvent>(live_capture.events_[0].body).user, "alice");
  EXPECT_EQ(live_capture.events_[0].enrichment.user, "alice");
  EXPECT_EQ(std::get<SecurityEvent>(live_capture.events_[1].body).user, "alice-from-the-log");
}

TEST_F(EnrichingSinkTest, ProbesProcForUnknownPidsWhenLive) {
  CaptureSink capture;
  EnrichingSinkOptions options;
  options.probe_proc = true;
  options.hash_executables = false;
  EnrichingSink sink(&capture, table_.get(), users_.get(), worker_.get(), options,
                     [] { return kNow; });
  AddProc(400, 200, 9000, (dir_ / "bin/tool").string());  // appeared after the seed
  EventBatch batch;
  batch.push_back(Event(400, 200, kNow + 5, FileEvent{}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  const Enrichment& e = capture.events_[0].enrichment;
  EXPECT_EQ(e.process_start_ms, kBootMs + 90'000);
  EXPECT_EQ(e.parent_start_ms, kBootMs + 50'000);
  EXPECT_EQ(sink.stats().proc_probes, 1u);
  EXPECT_EQ(e.hash_note, "");  // hashing off
}

TEST_F(EnrichingSinkTest, AgesOnEventTime) {
  CaptureSink capture;
  EnrichingSink sink(&capture, table_.get(), users_.get(), nullptr, {}, [] { return kNow; });
  EventBatch batch;
  batch.push_back(Event(300, 200, kNow, ProcessStart{{"tool"}, 1, false, "/", ""}));
  batch.push_back(Event(300, 200, kNow + 1, ProcessEnd{0}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  EXPECT_NE(table_->Find(300, kNow), nullptr);
  batch.clear();
  batch.push_back(Event(200, 1, kNow + 181'000, FileEvent{}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  EXPECT_EQ(table_->Find(300, kNow), nullptr);  // 180 s of event time later
}

TEST_F(EnrichingSinkTest, ImageLoadGetsItsSubjectFromTheTableAndChangesNothingThere) {
  CaptureSink capture;
  EnrichingSink sink(&capture, table_.get(), users_.get(), nullptr, {}, [] { return kNow; });
  EventBatch batch;
  batch.push_back(Event(300, 200, kNow + 10, ProcessStart{{"tool"}, 1, false, "/", ""}));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  batch.clear();
  // fanotify gives a pid and nothing else.
  TypedEvent load;
  load.header.time_ms = kNow + 20;
  load.subject.pid = 300;
  load.body = ImageLoadEvent{"/usr/lib/libz.so.1", false, "", ""};
  batch.push_back(std::move(load));
  TypedEvent stranger;  // a pid the table does not know
  stranger.header.time_ms = kNow + 21;
  stranger.subject.pid = 4242;
  stranger.body = ImageLoadEvent{"/usr/lib/libz.so.1", false, "", ""};
  batch.push_back(std::move(stranger));
  // The monitor read this one after the process exited (its stamp is the
  // read time): still the same process.
  batch.push_back(Event(300, 200, kNow + 30, ProcessEnd{0}));
  TypedEvent late;
  late.header.time_ms = kNow + 40;
  late.subject.pid = 300;
  late.body = ImageLoadEvent{"/usr/lib/libm.so.6", false, "", ""};
  batch.push_back(std::move(late));
  const size_t table_size = table_->size();
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 5u);
  EXPECT_EQ(capture.events_[4].subject.exe, (dir_ / "bin/tool").string());
  EXPECT_EQ(capture.events_[4].subject.uid, 1000);
  EXPECT_EQ(capture.events_[4].enrichment.process_start_ms, kNow + 10);
  const TypedEvent& filled = capture.events_[1];
  EXPECT_EQ(filled.subject.exe, (dir_ / "bin/tool").string());
  EXPECT_EQ(filled.subject.ppid, 200);
  EXPECT_EQ(filled.subject.uid, 1000);
  EXPECT_EQ(filled.subject.euid, 0);
  EXPECT_EQ(filled.enrichment.user, "alice");
  EXPECT_EQ(filled.enrichment.process_start_ms, kNow + 10);
  const TypedEvent& unknown = capture.events_[2];
  EXPECT_TRUE(unknown.subject.exe.empty());
  EXPECT_EQ(unknown.enrichment.process_start_ms, -1);
  EXPECT_EQ(table_->size(), table_size) << "an image load must not add a table entry";
  EXPECT_EQ(table_->Lookup(4242, kNow + 21), nullptr);
}

// Events of other machines (node=) have their own pids: the same number
// here names another process, and this machine's /proc knows nothing of it.
TEST_F(EnrichingSinkTest, AnotherNodesPidIsNeverThisMachinesProcess) {
  CaptureSink capture;
  EnrichingSinkOptions options;
  options.probe_proc = true;
  options.hash_executables = false;
  EnrichingSink sink(&capture, table_.get(), users_.get(), nullptr, options, [] { return kNow; });
  auto on = [&](const std::string& node, TypedEvent e) {
    e.header.node = node;
    return e;
  };
  auto bash = [&](TypedEvent e) {
    e.subject.exe = "/usr/bin/bash";
    return e;
  };
  EventBatch batch;
  // pid 200 is bash here (seeded); on web1 it is a process never seen.
  batch.push_back(on("web1", bash(Event(200, 1, kNow + 1, FileEvent{}))));
  // pid 300 execs on both nodes; a later event on web1 is web1's.
  batch.push_back(on("web1", Event(300, 200, kNow + 2, ProcessStart{{"a"}, 1, false, "/", ""})));
  batch.push_back(on("web2", Event(300, 1, kNow + 3, ProcessStart{{"b"}, 1, false, "/", ""})));
  batch.push_back(on("web1", Event(300, 200, kNow + 4, FileEvent{})));
  batch.push_back(bash(Event(200, 1, kNow + 5, FileEvent{})));  // this machine's
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(capture.events_.size(), 5u);
  EXPECT_EQ(capture.events_[0].enrichment.process_start_ms, -1);
  EXPECT_EQ(sink.stats().proc_probes, 0u);                       // /proc is not web1's
  EXPECT_EQ(capture.events_[1].enrichment.parent_start_ms, -1);  // web1's 200: start unknown
  EXPECT_EQ(capture.events_[2].enrichment.process_start_ms, kNow + 3);
  EXPECT_EQ(capture.events_[3].enrichment.process_start_ms, kNow + 2);
  EXPECT_EQ(capture.events_[4].enrichment.process_start_ms, kBootMs + 50'000);
}

}  // namespace
}  // namespace recorder::enrich
