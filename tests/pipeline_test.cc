// The pipeline's own bookkeeping: malformed and truncated lines are
// counted and reported with their line numbers, for text lines and
// netlink bodies alike, and what a truncated record yields is partial.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "parse/message_types.h"
#include "pipeline_support.h"

namespace recorder {
namespace {

class RecordingReporter : public ParseReporter {
 public:
  void Malformed(uint64_t line_number, ParseError error, std::string_view line) override {
    malformed.push_back({line_number, std::string(line)});
    (void)error;
  }
  void Truncated(uint64_t line_number, std::string_view line) override {
    truncated.push_back({line_number, std::string(line)});
  }
  std::vector<std::pair<uint64_t, std::string>> malformed, truncated;
};

constexpr char kSyscall[] =
    "type=SYSCALL msg=audit(1700000000.100:7): arch=c000003e syscall=59 success=yes exit=0 "
    "a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=42 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 "
    "fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" "
    "key=(null)";
constexpr char kExecve[] = "type=EXECVE msg=audit(1700000000.100:7): argc=2 a0=\"true\" a1=\"ab";
constexpr char kProctitle[] = "type=PROCTITLE msg=audit(1700000000.100:7): proctitle=74727565";

TEST(PipelineTest, MalformedAndTruncatedLinesAreCountedAndReportedByLineNumber) {
  VectorSink sink;
  RecordingReporter reporter;
  Pipeline pipeline({}, &reporter, &sink);
  for (const char* line : {kSyscall, "garbage without a type", kExecve, "", kProctitle})
    ASSERT_TRUE(pipeline.FeedLine(line).ok());
  ASSERT_TRUE(pipeline.Finish().ok());

  EXPECT_EQ(pipeline.stats().lines, 5u);
  EXPECT_EQ(pipeline.stats().malformed, 1u);
  ASSERT_EQ(reporter.malformed.size(), 1u);
  EXPECT_EQ(reporter.malformed[0].first, 2u);
  EXPECT_EQ(pipeline.stats().truncated, 1u);
  ASSERT_EQ(reporter.truncated.size(), 1u);
  EXPECT_EQ(reporter.truncated[0], std::make_pair(uint64_t{3}, std::string(kExecve)));

  // The event still yields its exec, marked partial, with what was read.
  ASSERT_EQ(sink.events_.size(), 1u);
  const TypedEvent& exec = sink.events_[0];
  EXPECT_TRUE(exec.header.partial);
  const auto* start = std::get_if<ProcessStart>(&exec.body);
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->argv, (std::vector<std::string>{"true", "ab"}));
}

TEST(PipelineTest, NetlinkBodiesAreCheckedTheSameWay) {
  VectorSink sink;
  RecordingReporter reporter;
  Pipeline pipeline({}, &reporter, &sink);
  auto body = [](std::string_view line) { return line.substr(line.find("audit(")); };
  ASSERT_TRUE(pipeline.FeedBody(audit_type::kSyscall, body(kSyscall), 0).ok());
  ASSERT_TRUE(pipeline.FeedBody(audit_type::kExecve, "no stamp here", 0).ok());
  ASSERT_TRUE(pipeline.FeedBody(audit_type::kExecve, body(kExecve), 0).ok());
  ASSERT_TRUE(pipeline.FeedBody(audit_type::kProctitle, body(kProctitle), 0).ok());
  ASSERT_TRUE(pipeline.Finish().ok());

  EXPECT_EQ(pipeline.stats().malformed, 1u);
  ASSERT_EQ(reporter.malformed.size(), 1u);
  EXPECT_EQ(reporter.malformed[0].first, 2u);
  ASSERT_EQ(reporter.truncated.size(), 1u);
  EXPECT_EQ(reporter.truncated[0].first, 3u);
  ASSERT_EQ(sink.events_.size(), 1u);
  EXPECT_TRUE(sink.events_[0].header.partial);
}

}  // namespace
}  // namespace recorder
