// Excluding a process excludes what it does and what its descendants do,
// asked of the real process table through TableLineage; pid reuse and
// "children": false.
#include <gtest/gtest.h>

#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "filter/compiled_filters.h"
#include "filter_support.h"

namespace recorder::filter {
namespace {

class LineageTest : public ::testing::Test {
 protected:
  void Exec(int32_t pid, int32_t ppid, int64_t t, const std::string& exe,
            std::vector<std::string> argv) {
    TypedEvent e = filter::Exec(argv, exe, pid, ppid, t);
    table_.Apply(e);
  }
  void Exit(int32_t pid, int64_t t) {
    TypedEvent e = Event(ProcessEnd{}, "", pid, 0, t);
    table_.Apply(e);
  }
  TypedEvent Write(int32_t pid, int64_t t, const std::string& exe) {
    TypedEvent e = FileEv(FileOperation::kWrite, "/tmp/out", exe);
    e.subject.pid = pid;
    e.header.time_ms = t;
    return e;
  }
  bool Kept(const CompiledFilters& f, const TypedEvent& e, bool with_lineage = true) {
    return f.Keep(e, with_lineage ? &lineage_ : nullptr, &scratch_);
  }

  enrich::ProcessTable table_{[] {
    enrich::ProcessTableOptions o;
    o.proc_root = "/nonexistent";
    return o;
  }()};
  enrich::TableLineage lineage_{&table_};
  MatchScratch scratch_;
};

TEST_F(LineageTest, ExcludedProcessTakesItsDescendantsAlong) {
  auto filters = MustCompile(R"({"process": {"exclude": [{"exe": "/opt/agent/agent"}]}})");
  ASSERT_NE(filters, nullptr);
  Exec(100, 1, 1000, "/opt/agent/agent", {"agent"});
  Exec(101, 100, 2000, "/bin/sh", {"sh", "-c", "curl x"});
  Exec(102, 101, 3000, "/usr/bin/curl", {"curl", "x"});
  Exec(200, 1, 1500, "/usr/bin/vim", {"vim"});

  EXPECT_FALSE(Kept(*filters, Write(100, 4000, "/opt/agent/agent")));
  EXPECT_FALSE(Kept(*filters, Write(102, 4000, "/usr/bin/curl")));  // grandchild
  EXPECT_FALSE(Kept(*filters, filter::Exec({"curl", "x"}, "/usr/bin/curl", 102, 101, 3000)));
  EXPECT_TRUE(Kept(*filters, Write(200, 4000, "/usr/bin/vim")));  // unrelated
  // Without the lineage only the agent's own events go.
  EXPECT_TRUE(Kept(*filters, Write(102, 4000, "/usr/bin/curl"), /*with_lineage=*/false));
  EXPECT_FALSE(Kept(*filters, Write(100, 4000, "/opt/agent/agent"), false));
}

// A pid names a process on its own host only: a replay of two hosts'
// logs (node=) asks the lineage of the event's host, never the other's.
TEST_F(LineageTest, TheLineageIsAskedOfTheEventsOwnHost) {
  auto filters = MustCompile(R"({"process": {"exclude": [{"exe": "/opt/agent/agent"}]}})");
  ASSERT_NE(filters, nullptr);
  auto on = [](TypedEvent e, const std::string& node) {
    e.header.node = node;
    return e;
  };
  table_.Apply(on(filter::Exec({"agent"}, "/opt/agent/agent", 100, 1, 1000), "web1"));
  table_.Apply(on(filter::Exec({"sh"}, "/bin/sh", 101, 100, 2000), "web1"));
  table_.Apply(on(filter::Exec({"vim"}, "/usr/bin/vim", 100, 1, 1000), "db1"));
  table_.Apply(on(filter::Exec({"sh"}, "/bin/sh", 101, 100, 2000), "db1"));

  EXPECT_FALSE(Kept(*filters, on(Write(101, 3000, "/bin/sh"), "web1")));  // the agent's child
  EXPECT_TRUE(Kept(*filters, on(Write(101, 3000, "/bin/sh"), "db1")));    // vim's child
  EXPECT_TRUE(Kept(*filters, Write(101, 3000, "/bin/sh")));  // this machine: no such process

  ProcessFacts facts;
  ASSERT_TRUE(lineage_.Instance("db1", 100, -1, 3000, &facts));
  EXPECT_EQ(facts.exe, "/usr/bin/vim");
  EXPECT_EQ(facts.node, "db1");
  ASSERT_TRUE(lineage_.Instance("web1", 100, 1000, 3000, &facts));
  EXPECT_EQ(facts.exe, "/opt/agent/agent");
  EXPECT_FALSE(lineage_.Instance("mail1", 100, -1, 3000, &facts)) << "a host never seen";
  EXPECT_FALSE(lineage_.Instance("", 100, -1, 3000, &facts));
}

TEST_F(LineageTest, ChildrenFalseKeepsTheDescendants) {
  auto filters =
      MustCompile(R"({"process": {"exclude": [{"exe": "/opt/agent/agent", "children": false}]}})");
  Exec(100, 1, 1000, "/opt/agent/agent", {"agent"});
  Exec(101, 100, 2000, "/bin/sh", {"sh"});
  EXPECT_FALSE(Kept(*filters, Write(100, 3000, "/opt/agent/agent")));
  EXPECT_TRUE(Kept(*filters, Write(101, 3000, "/bin/sh")));
}

TEST_F(LineageTest, ACommandLineRuleReachesTheProcessesOtherEvents) {
  auto filters =
      MustCompile(R"({"process": {"exclude": [{"cmdline": {"ends_with": "poll.py"}}]}})");
  Exec(100, 1, 1000, "/usr/bin/python3", {"python3", "/opt/poll.py"});
  Exec(101, 100, 2000, "/usr/bin/df", {"df"});
  // The write carries no argv: the table's instance does.
  EXPECT_FALSE(Kept(*filters, Write(100, 3000, "/usr/bin/python3")));
  EXPECT_FALSE(Kept(*filters, Write(101, 3000, "/usr/bin/df")));
  Exec(300, 1, 1000, "/usr/bin/python3", {"python3", "/opt/other.py"});
  EXPECT_TRUE(Kept(*filters, Write(300, 3000, "/usr/bin/python3")));
}

TEST_F(LineageTest, AReusedPidIsANewProcess) {
  auto filters = MustCompile(R"({"process": {"exclude": [{"exe": "/opt/agent/agent"}]}})");
  Exec(100, 1, 1000, "/opt/agent/agent", {"agent"});
  Exec(101, 100, 2000, "/bin/sleep", {"sleep"});
  EXPECT_FALSE(Kept(*filters, Write(101, 2500, "/bin/sleep")));  // verdict now remembered
  Exit(101, 3000);
  Exit(100, 3000);
  // pid 101 again, a child of an ordinary shell this time.
  Exec(50, 1, 500, "/bin/bash", {"bash"});
  Exec(101, 50, 4000, "/bin/sleep", {"sleep"});
  EXPECT_TRUE(Kept(*filters, Write(101, 4500, "/bin/sleep")));
}

TEST_F(LineageTest, EventScopedProcessRulesDropOnlyTheirEvents) {
  // A rule on process end events does not exclude the process.
  auto filters =
      MustCompile(R"({"process": {"exclude": [{"exe": "/usr/bin/true", "operation": "end"}]}})");
  Exec(100, 1, 1000, "/usr/bin/true", {"true"});
  EXPECT_TRUE(Kept(*filters, filter::Exec({"true"}, "/usr/bin/true", 100, 1, 1000)));
  EXPECT_TRUE(Kept(*filters, Write(100, 1500, "/usr/bin/true")));
  EXPECT_FALSE(Kept(*filters, Event(ProcessEnd{}, "/usr/bin/true", 100, 1, 2000)));
}

TEST_F(LineageTest, ParentExeField) {
  auto filters = MustCompile(R"({"file": {"exclude": [{"parent_exe": "/usr/sbin/cron"}]}})");
  Exec(100, 1, 1000, "/usr/sbin/cron", {"cron"});
  Exec(101, 100, 2000, "/usr/bin/logrotate", {"logrotate"});
  EXPECT_FALSE(Kept(*filters, Write(101, 3000, "/usr/bin/logrotate")));
  EXPECT_TRUE(Kept(*filters, Write(100, 3000, "/usr/sbin/cron")));  // its parent is init
}

}  // namespace
}  // namespace recorder::filter
