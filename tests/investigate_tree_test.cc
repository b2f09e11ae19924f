// Process trees: the pure assembly (collapse of identical children, depth
// limit, order), and on a database replayed from the captured log, the
// instance of a reused pid at a time and ancestry through it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "investigate/investigate_format.h"
#include "investigate/investigation_db.h"
#include "investigate/process_tree.h"
#include "recorder_cli.h"
#include "temp_dir.h"

namespace {

using recorder::StatusCode;
using recorder::investigate::AssembleTree;
using recorder::investigate::ProcessInfo;
using recorder::investigate::ProcessTree;
using recorder::investigate::TextStyle;
using recorder::investigate::TreeNode;

ProcessInfo Proc(int64_t id, std::optional<int64_t> parent, int64_t start, std::string cmdline,
                 int64_t exit_code = 0) {
  ProcessInfo p;
  p.process_id = id;
  p.pid = 1000 + id;
  p.parent_process_id = parent;
  p.start_time = start;
  p.end_time = start + 5;
  p.exit_code = exit_code;
  p.exe = cmdline.substr(0, cmdline.find(' '));
  p.cmdline = std::move(cmdline);
  p.user = "0";
  return p;
}

const TextStyle kPlain{true, false};

std::string Render(const TreeNode& root) { return TreeText(ProcessTree{{}, root}, kPlain); }

TEST(InvestigateTreeTest, IdenticalLeafChildrenCollapseIntoOneCountedNode) {
  const ProcessInfo root = Proc(1, std::nullopt, 0, "/bin/sh loop.sh");
  std::vector<ProcessInfo> rows;
  for (int i = 0; i < 120; ++i) rows.push_back(Proc(10 + i, 1, 1000 + i * 10, "/bin/true"));
  rows.push_back(Proc(5, 1, 500, "/bin/date"));
  rows.push_back(Proc(200, 1, 5000, "/bin/true", 1));  // another exit code: its own line
  TreeNode tree = AssembleTree(root, rows, 5);
  ASSERT_EQ(tree.children.size(), 3u);
  EXPECT_EQ(tree.children[0].process.process_id, 5);
  EXPECT_EQ(tree.children[1].count, 120);
  EXPECT_EQ(tree.children[1].process.process_id, 10);
  EXPECT_EQ(tree.children[1].last_start, 1000 + 119 * 10);
  EXPECT_EQ(tree.children[2].count, 1);
  EXPECT_EQ(Render(tree),
            "> #1 pid 1001 user 0 /bin/sh: /bin/sh loop.sh (1970-01-01T00:00:00.000Z .. "
            "1970-01-01T00:00:00.005Z, exit 0)\n"
            "|- #5 pid 1005 user 0 /bin/date: /bin/date (1970-01-01T00:00:00.500Z .. "
            "1970-01-01T00:00:00.505Z, exit 0)\n"
            "|- x120 #10 pid 1010 user 0 /bin/true: /bin/true (1970-01-01T00:00:01.000Z .. "
            "1970-01-01T00:00:01.005Z, exit 0), last started 1970-01-01T00:00:02.190Z\n"
            "`- #200 pid 1200 user 0 /bin/true: /bin/true (1970-01-01T00:00:05.000Z .. "
            "1970-01-01T00:00:05.005Z, exit 1)\n");
}

TEST(InvestigateTreeTest, ChildrenWithChildrenAreNeverCollapsed) {
  const ProcessInfo root = Proc(1, std::nullopt, 0, "/bin/sh");
  std::vector<ProcessInfo> rows = {Proc(2, 1, 10, "/bin/bash -c x"),
                                   Proc(3, 1, 20, "/bin/bash -c x"), Proc(4, 2, 30, "/bin/true")};
  TreeNode tree = AssembleTree(root, rows, 5);
  ASSERT_EQ(tree.children.size(), 2u);
  EXPECT_EQ(tree.children[0].process.process_id, 2);
  ASSERT_EQ(tree.children[0].children.size(), 1u);
  EXPECT_EQ(tree.children[1].process.process_id, 3);
  EXPECT_EQ(tree.children[1].count, 1);
}

TEST(InvestigateTreeTest, DepthLimitCountsWhatItHides) {
  const ProcessInfo root = Proc(1, std::nullopt, 0, "/a");
  std::vector<ProcessInfo> rows = {Proc(2, 1, 10, "/b"), Proc(3, 2, 20, "/c"), Proc(4, 2, 30, "/d"),
                                   Proc(5, 3, 40, "/e")};
  TreeNode one = AssembleTree(root, rows, 1);
  ASSERT_EQ(one.children.size(), 1u);
  EXPECT_TRUE(one.children[0].children.empty());
  EXPECT_EQ(one.children[0].hidden_children, 2);
  TreeNode none = AssembleTree(root, rows, 0);
  EXPECT_TRUE(none.children.empty());
  EXPECT_EQ(none.hidden_children, 1);
  EXPECT_EQ(Render(none),
            "> #1 pid 1001 user 0 /a: /a (1970-01-01T00:00:00.000Z .. 1970-01-01T00:00:00.005Z, "
            "exit 0)\n"
            "`- ... 1 child below the depth limit (--depth)\n");
}

TEST(InvestigateTreeTest, ACycleInDamagedDataEnds) {
  const ProcessInfo root = Proc(1, 3, 0, "/a");
  std::vector<ProcessInfo> rows = {Proc(2, 1, 10, "/b"), Proc(3, 2, 20, "/c"), Proc(1, 3, 0, "/a")};
  TreeNode tree = AssembleTree(root, rows, 50);
  ASSERT_EQ(tree.children.size(), 1u);
  ASSERT_EQ(tree.children[0].children.size(), 1u);
  EXPECT_TRUE(tree.children[0].children[0].children.empty());
}

TEST(InvestigateTreeTest, LongCommandLinesAreShortened) {
  const ProcessInfo root = Proc(1, std::nullopt, 0, "/bin/echo " + std::string(200, 'y'));
  const std::string text = Render(AssembleTree(root, {}, 1));
  EXPECT_NE(text.find("/bin/echo " + std::string(70, 'y') + "... ("), std::string::npos) << text;
  TextStyle terminal{true, true};
  const std::string boxed = TreeText(ProcessTree{{}, AssembleTree(root, {}, 1)}, terminal);
  EXPECT_NE(boxed.find(std::string(70, 'y') + "… ("), std::string::npos) << boxed;
}

}  // namespace
