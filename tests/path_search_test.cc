// PATH searches through the normalizer: ENOENT execs of one program name
// by one process, then the exec that finds it, become that exec with a
// count; anything else leaves the failures as they were. Held events go on
// in their order.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "normalize/event_codes.h"
#include "normalize/normalizer.h"
#include "parse/record_parser.h"

namespace recorder {
namespace {

class PathSearchTest : public ::testing::Test {
 protected:
  // One audit event at `ms` ms past the epoch second 1700000000, from
  // record bodies "TYPE fields..." of which the first is the SYSCALL's
  // "syscall=N success=.. exit=.." part (task fields of `pid` added).
  EventBatch Feed(int64_t ms, int pid, const std::string& syscall,
                  std::vector<std::string> records = {}) {
    const std::string stamp = "msg=audit(" + std::to_string(1700000000 + ms / 1000) + "." +
                              Millis(ms % 1000) + ":" + std::to_string(++serial_) + "): ";
    std::vector<std::string> lines = {
        "type=SYSCALL " + stamp + "arch=c000003e " + syscall +
        " a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=" + std::to_string(pid) +
        " auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 "
        "comm=\"env\" exe=\"/usr/bin/env\" key=(null)"};
    for (const std::string& r : records) {
      const size_t space = r.find(' ');
      lines.push_back("type=" + r.substr(0, space) + " " + stamp + r.substr(space + 1));
    }
    AuditEvent event;
    for (const std::string& line : lines) {
      AuditRecord record;
      EXPECT_EQ(ParseRecordLine(line, &record), ParseError::kNone) << line;
      event.Add(record);
    }
    EventBatch out;
    normalizer_.Normalize(event, &out);
    return out;
  }
  EventBatch Miss(int64_t ms, int pid, const std::string& path) {
    return Feed(ms, pid, "syscall=59 success=no exit=-2", {Item(path, "UNKNOWN")});
  }
  EventBatch Exec(int64_t ms, int pid, const std::string& path) {
    return Feed(ms, pid, "syscall=59 success=yes exit=0",
                {"EXECVE argc=1 a0=\"x\"", Item(path, "NORMAL"),
                 "PATH item=1 name=\"/lib64/ld-linux-x86-64.so.2\" nametype=NORMAL"});
  }
  EventBatch Exit(int64_t ms, int pid) { return Feed(ms, pid, "syscall=231 a0=0"); }
  static std::string Item(const std::string& path, const std::string& nametype) {
    return "PATH item=0 name=\"" + path + "\" nametype=" + nametype;
  }
  static std::string Millis(int64_t ms) {
    std::string text = std::to_string(ms);
    return std::string(3 - text.size(), '0') + text;
  }
  // "start:x" / "failed:/path:ENOENT" / "end" per event, for order checks.
  static std::vector<std::string> Kinds(const EventBatch& events) {
    std::vector<std::string> out;
    for (const TypedEvent& e : events) {
      if (const auto* f = std::get_if<ExecFailure>(&e.body)) {
        out.push_back("failed:" + f->path + ":" + std::string(ErrnoName(f->error)));
      } else if (std::holds_alternative<ProcessStart>(e.body)) {
        out.push_back("start:" + std::to_string(e.subject.pid));
      } else {
        out.push_back(std::string(EventKindName(e.body.index())) + ":" +
                      std::to_string(e.subject.pid));
      }
    }
    return out;
  }

  Normalizer normalizer_;
  uint64_t serial_ = 0;
};

TEST_F(PathSearchTest, MissesThenTheExecOfThatNameBecomeOneExecWithACount) {
  EXPECT_TRUE(Miss(0, 7, "/usr/local/sbin/su").empty());
  EXPECT_TRUE(Miss(0, 7, "/usr/local/bin/su").empty());
  EXPECT_TRUE(Miss(1, 7, "/usr/sbin/su").empty());
  EventBatch out = Exec(1, 7, "/usr/bin/su");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessStart>(out[0].body).path_search_attempts, 3);
  EXPECT_EQ(normalizer_.stats().path_search_attempts, 3u);
  EXPECT_EQ(normalizer_.stats().failed_exec, 0u);
  EXPECT_EQ(normalizer_.stats().process_start, 1u);
  EventBatch rest;
  normalizer_.Flush(&rest);
  EXPECT_TRUE(rest.empty());
}

TEST_F(PathSearchTest, AnExecOfAnotherNameLetsTheMissesGoOnFirst) {
  Miss(0, 7, "/usr/local/bin/vi");
  Miss(0, 7, "/usr/bin/vi");
  EventBatch out = Exec(2, 7, "/usr/bin/nano");
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"failed:/usr/local/bin/vi:ENOENT",
                                                  "failed:/usr/bin/vi:ENOENT", "start:7"}));
  EXPECT_EQ(std::get<ProcessStart>(out[2].body).path_search_attempts, 0);
  EXPECT_EQ(normalizer_.stats().failed_exec, 2u);
}

TEST_F(PathSearchTest, AnotherErrorEndsTheSearchAndEveryFailureStandsOut) {
  Miss(0, 7, "/usr/local/bin/tool");
  EventBatch out = Feed(1, 7, "syscall=59 success=no exit=-13", {Item("/usr/bin/tool", "NORMAL")});
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"failed:/usr/local/bin/tool:ENOENT",
                                                  "failed:/usr/bin/tool:EACCES"}));
  // The exec that follows has no misses left to count.
  out = Exec(2, 7, "/bin/tool");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessStart>(out[0].body).path_search_attempts, 0);
}

TEST_F(PathSearchTest, AnyOtherEventOfTheProcessLetsTheMissGoOnBeforeIt) {
  Miss(0, 7, "/usr/local/bin/nosuch");
  EventBatch out = Exit(3, 7);
  EXPECT_EQ(Kinds(out),
            (std::vector<std::string>{"failed:/usr/local/bin/nosuch:ENOENT", "process_end:7"}));
}

TEST_F(PathSearchTest, OtherProcessesWaitWithTheSearchAndKeepTheirOrder) {
  Miss(0, 7, "/usr/local/bin/b");
  EXPECT_TRUE(Exit(1, 8).empty());
  EXPECT_TRUE(Exec(2, 9, "/usr/bin/true").empty());
  EXPECT_TRUE(Miss(3, 7, "/usr/bin/b").empty());
  EXPECT_EQ(Kinds(Exec(4, 7, "/bin/b")),
            (std::vector<std::string>{"process_end:8", "start:9", "start:7"}));
  EXPECT_EQ(normalizer_.stats().path_search_attempts, 2u);
  // Nothing waits when no search is under way.
  EXPECT_EQ(Kinds(Exit(5, 8)), (std::vector<std::string>{"process_end:8"}));
}

TEST_F(PathSearchTest, TwoSearchesAtOnceAreDecidedEachByItsOwnProcess) {
  Miss(0, 7, "/usr/local/bin/a");
  Miss(0, 8, "/usr/local/bin/b");
  EXPECT_TRUE(Exec(1, 7, "/usr/bin/a").empty());  // 8's search is still open
  EXPECT_EQ(Kinds(Exit(2, 8)), (std::vector<std::string>{"failed:/usr/local/bin/b:ENOENT",
                                                         "start:7", "process_end:8"}));
}

TEST_F(PathSearchTest, HeldEventsGoOnAfterTheWindow) {
  Miss(0, 7, "/usr/local/bin/nosuch");
  EXPECT_TRUE(Exit(100, 8).empty());
  // Past the window, the next event lets them go on first, the miss a failure.
  EXPECT_EQ(Kinds(Exit(PathSearches::kWindowMs + 1, 9)),
            (std::vector<std::string>{"failed:/usr/local/bin/nosuch:ENOENT", "process_end:8",
                                      "process_end:9"}));
  // ... and a late exec of the name no longer counts it.
  EventBatch out = Exec(PathSearches::kWindowMs + 2, 7, "/usr/bin/nosuch");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessStart>(out[0].body).path_search_attempts, 0);
}

TEST_F(PathSearchTest, AgeReleasesByTheClockItIsGiven) {
  Miss(0, 7, "/usr/local/bin/nosuch");
  EventBatch out;
  normalizer_.Age(1700000000000 + PathSearches::kWindowMs, &out);
  EXPECT_TRUE(out.empty());
  normalizer_.Age(1700000000000 + PathSearches::kWindowMs + 1, &out);
  EXPECT_EQ(Kinds(out), (std::vector<std::string>{"failed:/usr/local/bin/nosuch:ENOENT"}));
  EXPECT_EQ(normalizer_.stats().failed_exec, 1u);
}

TEST_F(PathSearchTest, HeldEventsAreBounded) {
  EventBatch released;
  auto keep = [&](EventBatch out) {
    for (TypedEvent& e : out) released.push_back(std::move(e));
  };
  // A long PATH is still one search...
  for (size_t i = 0; i + 1 < PathSearches::kMaxMisses; ++i)
    keep(Miss(0, 7, "/d" + std::to_string(i) + "/b"));
  EXPECT_TRUE(released.empty());
  // ... with a few events of other processes in between.
  for (size_t i = 0; i < PathSearches::kMaxOthers; ++i) keep(Exit(1, 1000 + static_cast<int>(i)));
  EXPECT_TRUE(released.empty());
  // One more other event, and all go on in order, the misses as failures.
  keep(Exit(2, 5000));
  ASSERT_EQ(released.size(), PathSearches::kMaxMisses - 1 + PathSearches::kMaxOthers + 1);
  EXPECT_EQ(Kinds(released).front(), "failed:/d0/b:ENOENT");
  EXPECT_EQ(Kinds(released).back(), "process_end:5000");
  EventBatch out = Exec(3, 7, "/usr/bin/b");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessStart>(out[0].body).path_search_attempts, 0);
  // So do kMaxMisses misses.
  released.clear();
  for (size_t i = 0; i < PathSearches::kMaxMisses; ++i)
    keep(Miss(4, 7, "/d" + std::to_string(i) + "/c"));
  EXPECT_EQ(released.size(), PathSearches::kMaxMisses);
}

TEST_F(PathSearchTest, NodesKeepTheirSearchesApart) {
  // Same pid on two machines of a forwarded log: not the same process.
  AuditEvent event;
  AuditRecord record;
  ASSERT_EQ(ParseRecordLine("node=web1 type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e "
                            "syscall=59 success=no exit=-2 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 "
                            "pid=7 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 "
                            "tty=(none) ses=1 comm=\"env\" exe=\"/usr/bin/env\" key=(null)",
                            &record),
            ParseError::kNone);
  event.Add(record);
  ASSERT_EQ(ParseRecordLine("node=web1 type=PATH msg=audit(1700000000.000:1): item=0 "
                            "name=\"/usr/local/bin/su\" nametype=UNKNOWN",
                            &record),
            ParseError::kNone);
  event.Add(record);
  EventBatch out;
  normalizer_.Normalize(event, &out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(Exec(1, 7, "/usr/bin/su").empty());  // the local pid 7: waits, in order
  normalizer_.Flush(&out);
  ASSERT_EQ(Kinds(out), (std::vector<std::string>{"failed:/usr/local/bin/su:ENOENT", "start:7"}));
  EXPECT_EQ(out[0].header.node, "web1");
  EXPECT_EQ(std::get<ProcessStart>(out[1].body).path_search_attempts, 0);
}

}  // namespace
}  // namespace recorder
