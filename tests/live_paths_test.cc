// File paths of calls relative to a directory descriptor, live: `recorder
// run --source unicast`, then the tools that work that way remove trees
// made before the recorder started (so no event named them): `rm -rf` and
// `find -delete` run from /, Python's shutil.rmtree, and
// recorder_at_paths_helper (tests/at_paths_helper.cc) doing
// openat/renameat2/mkdirat/linkat/utimensat/... through descriptors, one of whose
// directories is renamed while it holds it. Every path stored must be the
// real one or be marked unresolved; none may be wrong. The ones the inode
// chain can resolve must be resolved, and one only /proc can tell (a write
// to an existing file through a descriptor the helper still holds).
//
// Needs root and kernel audit; skips (saying why) otherwise. The guard
// restores the audit state even when an assertion fails.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-pathstest";

struct Expected {
  std::string operation;
  std::string path;
  std::string new_path;
};

struct Row {
  std::string operation, path, new_path;
  bool path_unresolved = false, new_path_unresolved = false;
};

class LivePaths : public UnicastRecorderTest {
 protected:
  LivePaths() : UnicastRecorderTest(kTestKey) {}

  void MakeTree(const std::string& top) {
    fs::create_directories(top + "/sub/deeper");
    std::ofstream(top + "/sub/deeper/secret.txt") << "s";
    std::ofstream(top + "/a.txt") << "a";
  }
  std::vector<Expected> TreeRemoval(const std::string& top) {
    return {{"delete", top + "/sub/deeper/secret.txt", ""},
            {"rmdir", top + "/sub/deeper", ""},
            {"rmdir", top + "/sub", ""},
            {"delete", top + "/a.txt", ""},
            {"rmdir", top, ""}};
  }
  // file_events rows of one executable, in the order stored.
  std::vector<Row> RowsOf(Db& db, const std::string& exe) {
    std::vector<Row> rows;
    for (const auto& r :
         db.Query("SELECT operation, path, coalesce(new_path, ''), path_unresolved, "
                  "new_path_unresolved FROM file_events WHERE exe = " +
                  Quote(exe) + " ORDER BY time")) {
      rows.push_back({r[0], r[1], r[2], r[3] == "1", r[4] == "1"});
    }
    return rows;
  }
  // Every row of `rows` under `top` (or unresolved) is one of `expected`
  // (resolved names exactly; an unresolved one only by its operation);
  // every expected one is there, resolved unless `may_be_unresolved`.
  void CheckRows(const std::vector<Row>& all_rows, const std::string& top,
                 const std::vector<Expected>& expected,
                 const std::set<std::string>& may_be_unresolved, const std::string& what) {
    std::vector<Row> rows;
    for (const Row& r : all_rows)
      if (r.path.rfind(top, 0) == 0 || r.path_unresolved || r.new_path_unresolved)
        rows.push_back(r);
    std::vector<bool> matched(expected.size(), false);
    for (const Row& r : rows) {
      bool found = false;
      for (size_t i = 0; i < expected.size() && !found; ++i) {
        const Expected& e = expected[i];
        if (matched[i] || r.operation != e.operation) continue;
        const bool path_ok =
            r.path_unresolved ? may_be_unresolved.count(e.path) > 0 : r.path == e.path;
        const bool new_ok = r.new_path_unresolved ? may_be_unresolved.count(e.new_path) > 0
                                                  : r.new_path == e.new_path;
        if (path_ok && new_ok) matched[i] = found = true;
      }
      EXPECT_TRUE(found) << what << ": a stored path that is not the real one: " << r.operation
                         << " '" << r.path << "' -> '" << r.new_path << "' (unresolved "
                         << r.path_unresolved << "/" << r.new_path_unresolved << ")";
    }
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_TRUE(matched[i]) << what << ": no row for " << expected[i].operation << " "
                              << expected[i].path << " " << expected[i].new_path;
  }
};

TEST_F(LivePaths, DescriptorRelativePathsAreTheRealOnesOrMarkedUnresolved) {
  const std::string base = temp_.path() + "/work";
  MakeTree(base + "/rmtest");
  MakeTree(base + "/findtest");
  MakeTree(base + "/pytest");
  fs::create_directories(base + "/helper");
  fs::create_directories(base + "/pre");
  std::ofstream(base + "/pre/existing.txt") << "e";

  pid_t recorder = StartRecorder();
  EXPECT_EQ(RunProgram({"/bin/sh", "-c", "cd / && rm -rf " + base + "/rmtest"}), 0);
  EXPECT_EQ(RunProgram({"/bin/sh", "-c", "cd / && find " + base + "/findtest -delete"}), 0);
  EXPECT_EQ(
      RunProgram({"/bin/sh", "-c",
                  "cd / && /usr/bin/python3 -c 'import shutil, sys; shutil.rmtree(sys.argv[1])' " +
                      base + "/pytest"}),
      0);
  // The helper keeps its descriptors for 3 s after its last call, so
  // /proc still shows them while the recorder reads its events.
  const std::string helper_out = temp_.path() + "/helper.out";
  EXPECT_EQ(WaitExit(Spawn({RECORDER_AT_PATHS_HELPER, base + "/helper", base + "/pre", "3000"},
                           helper_out),
                     30s),
            0)
      << RunCapture("cat " + helper_out);
  EXPECT_FALSE(fs::exists(base + "/rmtest") || fs::exists(base + "/findtest") ||
               fs::exists(base + "/pytest"));

  const std::string helper_exe = fs::canonical(RECORDER_AT_PATHS_HELPER).string();
  Db db(DbPath());
  // The helper's last call reveals its root: everything before it is
  // resolved by then.
  EXPECT_FALSE(db.Await("SELECT 1 FROM file_events WHERE exe = " + Quote(helper_exe) +
                        " AND operation = 'chmod' AND path = " + Quote(base + "/helper"))
                   .empty())
      << ReadLog();
  StopRecorder(recorder);

  CheckRows(RowsOf(db, fs::canonical("/bin/rm").string()), base, TreeRemoval(base + "/rmtest"), {},
            "rm -rf");
  CheckRows(RowsOf(db, fs::canonical("/usr/bin/find").string()), base,
            TreeRemoval(base + "/findtest"), {}, "find -delete");
  CheckRows(RowsOf(db, fs::canonical("/usr/bin/python3").string()), base,
            TreeRemoval(base + "/pytest"), {}, "shutil.rmtree");

  // The helper says what it did, with the real paths.
  std::vector<Expected> helper;
  std::ifstream out(helper_out);
  for (std::string line; std::getline(out, line);) {
    std::vector<std::string> parts;
    std::stringstream fields(line);
    for (std::string part; std::getline(fields, part, '\t');) parts.push_back(part);
    parts.resize(3);
    helper.push_back({parts[0], parts[1], parts[2]});
  }
  ASSERT_EQ(helper.size(), 23u) << RunCapture("cat " + helper_out);
  // Names that only /proc can tell, which may be too late (each must be
  // right if it is resolved at all): the write to existing.txt before its
  // directory was renamed (no directory inode is logged for it; by the
  // time the recorder reads /proc the directory may have its new name, and
  // that answer is dropped); f1 of the chmod, chown, set_times calls and
  // of the hard link (an existing file: no directory inode either); both names of the rename
  // between two directories (its two PARENT items cannot be told apart).
  CheckRows(RowsOf(db, helper_exe), base, helper,
            {base + "/pre/existing.txt", base + "/helper/a/c/f1", base + "/helper/a/c/f2",
             base + "/helper/a/moved"},
            "at_paths_helper");
  // The write after the rename: /proc alone, and the helper held on.
  auto second_write =
      db.Query("SELECT path_unresolved FROM file_events WHERE exe = " + Quote(helper_exe) +
               " AND operation = 'write' AND path = " + Quote(base + "/pre-moved/existing.txt"));
  EXPECT_EQ(second_write.size(), 1u) << "the write through a held descriptor was not resolved";

  // The run counts what stayed unresolved.
  auto counted = db.Query("SELECT unresolved_paths FROM runs ORDER BY run_id DESC LIMIT 1");
  auto rows = db.Query(
      "SELECT count(*) FROM file_events WHERE path_unresolved = 1 OR "
      "new_path_unresolved = 1");
  ASSERT_EQ(counted.size(), 1u);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(counted[0][0], rows[0][0]);
}

}  // namespace
}  // namespace recorder
