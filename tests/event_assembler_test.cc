#include "assemble/event_assembler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "parse/record_parser.h"

namespace recorder {
namespace {

class AssemblerTest : public ::testing::Test {
 protected:
  void Feed(const std::string& line, int64_t now_ms = 0) {
    ASSERT_EQ(ParseRecordLine(line, &record_), ParseError::kNone) << line;
    assembler_.Feed(record_, now_ms, &done_);
  }
  static std::string Rec(const char* type, uint64_t serial, const char* fields = "a=1",
                         const char* time = "1700000000.100", const char* node = nullptr) {
    std::string s = node ? std::string("node=") + node + " " : "";
    return s + "type=" + type + " msg=audit(" + time + ":" + std::to_string(serial) +
           "): " + fields;
  }

  AssemblerOptions options_;
  EventAssembler assembler_{options_};
  AuditRecord record_;
  EventAssembler::EventList done_;
};

TEST_F(AssemblerTest, ClosesOnEoeWithAllRecordsInOrder) {
  Feed(Rec("SYSCALL", 10, "syscall=59"));
  Feed(Rec("EXECVE", 10, "argc=1 a0=\"ls\""));
  Feed(Rec("CWD", 10, "cwd=\"/\""));
  EXPECT_TRUE(done_.empty());
  Feed(Rec("EOE", 10, ""));
  ASSERT_EQ(done_.size(), 1u);
  const AuditEvent& e = *done_[0];
  EXPECT_EQ(e.serial(), 10u);
  EXPECT_EQ(e.time_ms(), 1700000000100);
  ASSERT_EQ(e.records().size(), 4u);
  EXPECT_EQ(e.records()[1].Value("a0"), "ls");
  EXPECT_EQ(e.close_reason(), CloseReason::kEndOfEvent);
  EXPECT_FALSE(e.incomplete());
  EXPECT_EQ(assembler_.open_events(), 0u);
}

TEST_F(AssemblerTest, EventOwnsItsTextAfterTheLineIsGone) {
  {
    std::string line = Rec("SYSCALL", 11, "comm=\"cat\"");
    Feed(line);
    std::fill(line.begin(), line.end(), 'X');  // the input buffer is reused
  }
  Feed(Rec("EOE", 11, ""));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0]->records()[0].Value("comm"), "cat");
  EXPECT_EQ(done_[0]->records()[0].type_name, "SYSCALL");
}

TEST_F(AssemblerTest, InterleavedEventsStaySeparate) {
  Feed(Rec("SYSCALL", 1, "pid=1"));
  Feed(Rec("SYSCALL", 2, "pid=2"));
  Feed(Rec("PATH", 1, "name=\"a\""));
  Feed(Rec("PATH", 2, "name=\"b\""));
  Feed(Rec("EOE", 2, ""));
  Feed(Rec("EOE", 1, ""));
  ASSERT_EQ(done_.size(), 2u);
  EXPECT_EQ(done_[0]->serial(), 2u);
  EXPECT_EQ(done_[0]->records()[1].Value("name"), "b");
  EXPECT_EQ(done_[1]->serial(), 1u);
  EXPECT_EQ(done_[1]->records()[1].Value("name"), "a");
}

TEST_F(AssemblerTest, SingleRecordTypesCloseAtOnce) {
  Feed(Rec("USER_AUTH", 5, "pid=1 msg='op=PAM:authentication res=success'"));
  Feed(Rec("DAEMON_START", 6, "op=start"));
  ASSERT_EQ(done_.size(), 2u);
  EXPECT_EQ(done_[0]->close_reason(), CloseReason::kSingleRecord);
  EXPECT_EQ(done_[0]->records()[0].Value("op"), "PAM:authentication");
}

TEST_F(AssemblerTest, SameSerialOnDifferentNodesIsTwoEvents) {
  Feed(Rec("SYSCALL", 7, "pid=1", "1700000000.100", "a"));
  Feed(Rec("SYSCALL", 7, "pid=2", "1700000000.100", "b"));
  Feed(Rec("EOE", 7, "", "1700000000.100", "b"));
  Feed(Rec("EOE", 7, "", "1700000000.100", "a"));
  ASSERT_EQ(done_.size(), 2u);
  EXPECT_EQ(done_[0]->node(), "b");
  EXPECT_EQ(done_[0]->records()[0].Value("pid"), "2");
  EXPECT_EQ(done_[1]->node(), "a");
}

TEST_F(AssemblerTest, SerialReuseWithNewTimeClosesTheOldEvent) {
  Feed(Rec("SYSCALL", 3, "pid=1", "1700000000.100"));
  Feed(Rec("SYSCALL", 3, "pid=9", "1700000999.100"));  // wrapped or rebooted
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0]->close_reason(), CloseReason::kSerialReuse);
  EXPECT_EQ(done_[0]->records()[0].Value("pid"), "1");
  Feed(Rec("EOE", 3, "", "1700000999.100"));
  ASSERT_EQ(done_.size(), 2u);
  EXPECT_EQ(done_[1]->records()[0].Value("pid"), "9");
}

TEST_F(AssemblerTest, EventWithoutEoeClosesByAge) {
  Feed(Rec("SYSCALL", 4), /*now_ms=*/1000);
  assembler_.Age(1000 + options_.max_event_age_ms - 1, &done_);
  EXPECT_TRUE(done_.empty());
  assembler_.Age(1000 + options_.max_event_age_ms, &done_);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0]->close_reason(), CloseReason::kAged);
  EXPECT_TRUE(done_[0]->incomplete());
  // A late EOE for it has nothing to attach to.
  Feed(Rec("EOE", 4, ""), 9000);
  EXPECT_EQ(done_.size(), 1u);
  EXPECT_EQ(assembler_.stats().orphan_eoe, 1u);
}

TEST_F(AssemblerTest, EventWithoutEoeClosesByRecordWindow) {
  AssemblerOptions options;
  options.max_records_behind = 100;
  EventAssembler assembler(options);
  AuditRecord r;
  // The record's views point into the line, so the line must outlive Feed().
  std::string line = Rec("SYSCALL", 1);
  ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
  assembler.Feed(r, 0, &done_);
  for (uint64_t serial = 2; serial < 2 + 300; ++serial) {
    line = Rec("USER_CMD", serial);
    ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
    assembler.Feed(r, 0, &done_);
  }
  auto stale =
      std::find_if(done_.begin(), done_.end(), [](const auto& e) { return e->serial() == 1; });
  ASSERT_NE(stale, done_.end());
  EXPECT_EQ((*stale)->close_reason(), CloseReason::kWindow);
}

TEST_F(AssemblerTest, CapacityClosesTheOldest) {
  AssemblerOptions options;
  options.max_open_events = 3;
  EventAssembler assembler(options);
  AuditRecord r;
  for (uint64_t serial = 1; serial <= 4; ++serial) {
    std::string line = Rec("SYSCALL", serial);
    ASSERT_EQ(ParseRecordLine(line, &r), ParseError::kNone);
    assembler.Feed(r, 0, &done_);
  }
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0]->serial(), 1u);
  EXPECT_EQ(done_[0]->close_reason(), CloseReason::kCapacity);
  EXPECT_EQ(assembler.open_events(), 3u);
}

TEST_F(AssemblerTest, FlushClosesEverything) {
  Feed(Rec("SYSCALL", 1));
  Feed(Rec("SYSCALL", 2));
  assembler_.Flush(&done_);
  EXPECT_EQ(done_.size(), 2u);
  EXPECT_EQ(assembler_.open_events(), 0u);
  EXPECT_EQ(assembler_.stats().closed_by_flush, 2u);
}

TEST_F(AssemblerTest, ProctitleEndsTheEventAndALiveEoeIsAnOrphan) {
  Feed(Rec("SYSCALL", 12, "syscall=59"));
  Feed(Rec("PROCTITLE", 12, "proctitle=6C73"));
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0]->records().size(), 2u);
  EXPECT_EQ(done_[0]->close_reason(), CloseReason::kEndOfEvent);
  Feed(Rec("EOE", 12, ""));
  EXPECT_EQ(done_.size(), 1u);
  EXPECT_EQ(assembler_.stats().orphan_eoe, 1u);
}

// 10k events interleaved as the kernel does on a busy machine: each
// event's records stay in their own order (one task writes them), but
// records of up to 8 concurrent events are randomly merged. With and
// without EOE (auditd's log files never contain EOE).
void RunInterleaved(bool with_eoe) {
  constexpr uint64_t kEvents = 10000;
  constexpr uint64_t kWindow = 8;
  std::mt19937 rng(42);
  std::vector<std::string> ordered;
  auto rec = [](const char* type, uint64_t s, const std::string& fields) {
    return std::string("type=") + type + " msg=audit(1700000000.100:" + std::to_string(s) +
           "): " + fields;
  };
  for (uint64_t first = 1; first <= kEvents; first += kWindow) {
    std::vector<std::vector<std::string>> events;
    for (uint64_t s = first; s < first + kWindow && s <= kEvents; ++s) {
      std::vector<std::string> e = {rec("SYSCALL", s, "pid=" + std::to_string(s)),
                                    rec("CWD", s, "cwd=\"/\""), rec("PATH", s, "item=0"),
                                    rec("PROCTITLE", s, "proctitle=6C73")};
      if (with_eoe) e.push_back(rec("EOE", s, ""));
      std::reverse(e.begin(), e.end());  // pop_back() yields them in order
      events.push_back(std::move(e));
    }
    while (!events.empty()) {
      size_t pick = rng() % events.size();
      ordered.push_back(events[pick].back());
      events[pick].pop_back();
      if (events[pick].empty()) events.erase(events.begin() + pick);
    }
  }
  EventAssembler assembler;
  EventAssembler::EventList done;
  AuditRecord record;
  for (const auto& l : ordered) {
    ASSERT_EQ(ParseRecordLine(l, &record), ParseError::kNone);
    assembler.Feed(record, 0, &done);
  }
  assembler.Flush(&done);
  ASSERT_EQ(done.size(), kEvents);
  std::vector<bool> seen(kEvents + 1, false);
  for (const auto& e : done) {
    ASSERT_EQ(e->records().size(), 4u) << "serial " << e->serial();
    const AuditRecord* syscall = e->Find(1300);
    ASSERT_NE(syscall, nullptr);
    EXPECT_EQ(syscall->Value("pid"), std::to_string(e->serial()));
    EXPECT_EQ(e->close_reason(), CloseReason::kEndOfEvent);
    seen[e->serial()] = true;
  }
  EXPECT_EQ(std::count(seen.begin() + 1, seen.end(), true), static_cast<long>(kEvents));
  EXPECT_EQ(assembler.stats().orphan_eoe, with_eoe ? kEvents : 0);
}

TEST(Assembler, TenThousandInterleavedEventsWithEoe) { RunInterleaved(true); }
TEST(Assembler, TenThousandInterleavedEventsFromALogFile) { RunInterleaved(false); }

}  // namespace
}  // namespace recorder
