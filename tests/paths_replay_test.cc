// The path resolver on a real kernel log: tests/data/capture-paths.log
// (scripts/capture-path-sample) replayed through the pipeline and the
// enrich stage, as `recorder replay` does: inode chaining only, no /proc.
// rm -rf, find -delete and shutil.rmtree name everything relative to a
// descriptor and the tree itself last: every path resolved, each the real
// one (capture-paths.tsv). The descriptor helper's are resolved where its
// events give a directory inode, and unresolved exactly where they do not.
// `recorder replay` of the same log stores the flags and counts them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "db_query.h"
#include "enrich/enriching_sink.h"
#include "normalize/event_codes.h"
#include "pipeline_support.h"
#include "temp_dir.h"

namespace recorder {
namespace {

struct Expected {
  std::string operation, path, new_path;
};

// tool -> what it did, in order.
std::map<std::string, std::vector<Expected>> ReadExpected() {
  std::map<std::string, std::vector<Expected>> out;
  std::ifstream in(std::string(RECORDER_TEST_DATA) + "/capture-paths.tsv");
  EXPECT_TRUE(in.good());
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string part; std::getline(fields, part, '\t');) f.push_back(part);
    f.resize(4);
    out[f[0]].push_back({f[1], f[2], f[3]});
  }
  return out;
}

class PathsReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    enrich::ProcessTable processes;
    enrich::EnrichingSinkOptions options;
    options.hash_executables = false;
    enrich::EnrichingSink enricher(&sink_, &processes, nullptr, nullptr, options);
    Pipeline pipeline(PipelineOptions(), nullptr, &enricher);
    FeedCapturedLog("capture-paths.log", &pipeline);
    stats_ = enricher.paths()->stats();
    held_ = enricher.paths()->held();
  }
  // File events of the process whose comm is `comm`, in order.
  std::vector<const FileEvent*> FilesOf(const std::string& comm) {
    std::vector<const FileEvent*> out;
    for (const TypedEvent& e : sink_.events_)
      if (e.subject.comm == comm)
        if (const auto* f = std::get_if<FileEvent>(&e.body)) out.push_back(f);
    return out;
  }

  VectorSink sink_;
  enrich::PathResolverStats stats_;
  size_t held_ = 0;
};

TEST_F(PathsReplay, TreeRemovalsAreResolvedByChaining) {
  auto expected = ReadExpected();
  for (const auto& [tool, comm] : std::vector<std::pair<std::string, std::string>>{
           {"rm", "rm"}, {"find", "find"}, {"python3", "python3"}}) {
    std::vector<const FileEvent*> files = FilesOf(comm);
    ASSERT_EQ(files.size(), 5u) << tool;
    std::multiset<std::string> got, want;
    for (const FileEvent* f : files) {
      EXPECT_FALSE(f->path_origin.unresolved) << tool << ": " << f->path;
      got.insert(std::string(Name(f->operation)) + " " + f->path);
    }
    for (const Expected& e : expected[tool]) want.insert(e.operation + " " + e.path);
    EXPECT_EQ(got, want) << tool;
  }
}

// The helper's calls, in order. Unresolved without /proc: the rename
// between two directories (its PARENT items cannot be paired), chmod and
// chown of a file that exists (no PARENT item at all), the hard link's
// existing file, and the writes to a file that exists.
TEST_F(PathsReplay, HelperPathsAreRealOrUnresolvedWhereTheLogCannotTell) {
  const std::vector<Expected> expected = ReadExpected()["helper"];
  std::vector<const FileEvent*> files = FilesOf("recorder_at_pat");
  ASSERT_EQ(files.size(), expected.size());
  const std::set<size_t> path_unresolved = {5, 6, 7, 16, 19};
  const std::set<size_t> new_path_unresolved = {5, 8};
  for (size_t i = 0; i < files.size(); ++i) {
    const FileEvent& f = *files[i];
    const Expected& e = expected[i];
    EXPECT_EQ(Name(f.operation), e.operation) << i;
    if (path_unresolved.count(i)) {
      EXPECT_TRUE(f.path_origin.unresolved) << i << " " << f.path;
      EXPECT_EQ(e.path.substr(e.path.size() - f.path.size()), f.path) << i;
    } else {
      EXPECT_FALSE(f.path_origin.unresolved) << i;
      EXPECT_EQ(f.path, e.path) << i;
    }
    if (new_path_unresolved.count(i)) {
      EXPECT_TRUE(f.new_path_origin.unresolved) << i << " " << f.new_path;
    } else {
      EXPECT_FALSE(f.new_path_origin.unresolved) << i;
      EXPECT_EQ(f.new_path, e.new_path) << i;
    }
  }
  EXPECT_EQ(stats_.resolved_live, 0u);
  EXPECT_GT(stats_.resolved_later, 20u);
  EXPECT_EQ(held_, 0u);
}

TEST(PathsReplayCli, ReplayStoresResolvedPathsAndCountsTheRest) {
  TempDir dir;
  const std::string db = dir.path() + "/monitor.db";
  const std::string command = std::string("'") + RECORDER_BINARY + "' replay --db '" + db + "' '" +
                              RECORDER_TEST_DATA + "/capture-paths.log' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(Scalar(db,
                   "SELECT count(*) FROM file_events WHERE exe LIKE '%/rm' AND "
                   "path_unresolved = 0 AND path LIKE '/%/rmtest%'"),
            "5");
  const std::string unresolved =
      Scalar(db,
             "SELECT count(*) FROM file_events WHERE path_unresolved = 1 OR "
             "new_path_unresolved = 1");
  EXPECT_EQ(unresolved, "6");
  EXPECT_EQ(Scalar(db, "SELECT unresolved_paths FROM runs"), unresolved);
}

// utimensat(6, "f1") as the helper makes it, run from /w: the only PATH
// item is the file (no PARENT), so replay cannot tell its directory. It is
// stored as set_times, unresolved, never as /w/f1; utimensat(AT_FDCWD,
// "f1") is /w/f1.
TEST(PathsReplayCli, SetTimesThroughADescriptorIsNotJoinedToTheCwd) {
  TempDir dir;
  const std::string log = dir.path() + "/utimensat.log";
  {
    std::ofstream out(log);
    auto event = [&](int serial, const char* a0) {
      const std::string msg =
          "msg=audit(1796449858." + std::to_string(serial) + ":" + std::to_string(serial) + "): ";
      out << "type=SYSCALL " << msg << "arch=c000003e syscall=280 success=yes exit=0 a0=" << a0
          << " a1=55abdf21c0d5 a2=0 a3=0 items=1 ppid=1 pid=4242 auid=0 uid=0 gid=0 euid=0 "
             "suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"touch\" "
             "exe=\"/usr/bin/touch\" key=\"recorder\"\n"
          << "type=CWD " << msg << "cwd=\"/w\"\n"
          << "type=PATH " << msg
          << "item=0 name=\"f1\" inode=10953427 dev=fe:00 mode=0100644 ouid=0 ogid=0 "
             "rdev=00:00 nametype=NORMAL\n"
          << "type=PROCTITLE " << msg << "proctitle=746F756368\n";
    };
    event(100, "6");
    event(200, "ffffff9c");
  }
  const std::string db = dir.path() + "/monitor.db";
  const std::string command = std::string("'") + RECORDER_BINARY + "' replay --db '" + db + "' '" +
                              log + "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(Scalar(db,
                   "SELECT group_concat(operation || ' ' || path || ' ' || path_unresolved, ', ') "
                   "FROM (SELECT * FROM file_events ORDER BY time)"),
            "set_times f1 1, set_times /w/f1 0");
}

}  // namespace
}  // namespace recorder
