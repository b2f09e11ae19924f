// PathResolver and DirectoryMap: names relative to a directory descriptor
// made absolute by chaining directory inodes, in either order; events that
// wait for a later one, within the window and the bound; directories
// renamed between events; the live part's answers taken or dropped.
#include "enrich/path_resolver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "enrich/directory_map.h"
#include "enrich/enriching_sink.h"
#include "enrich/proc_dirfds.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

constexpr uint64_t kDev = 0xfe00;
constexpr int64_t kT0 = 1'700'000'000'000;

// A name as the normalizer hands it on: relative to dirfd 5, in the
// directory `dir`; `self` is the file's own inode when it is a directory.
PathOrigin Relative(uint64_t dir, uint64_t self = 0, int32_t dirfd = 5) {
  PathOrigin o;
  o.dirfd = dirfd;
  o.dir_dev = kDev;
  o.dir_inode = dir;
  o.unresolved = true;
  if (self != 0) {
    o.dev = kDev;
    o.inode = self;
    o.directory = true;
  }
  return o;
}

// An absolute name (AT_FDCWD or a path from /): its inodes teach.
PathOrigin Absolute(uint64_t dir, uint64_t self = 0) {
  PathOrigin o = Relative(dir, self, PathOrigin::kAtFdcwd);
  o.unresolved = false;
  return o;
}

TypedEvent File(int64_t t, FileOperation op, std::string path, PathOrigin origin,
                std::string new_path = "", PathOrigin new_origin = {}) {
  TypedEvent e;
  e.header.time_ms = t;
  e.header.serial = static_cast<uint64_t>(t - kT0);
  e.subject.pid = 4242;
  FileEvent f;
  f.operation = op;
  f.path = std::move(path);
  f.path_origin = origin;
  f.new_path = std::move(new_path);
  f.new_path_origin = new_origin;
  e.body = std::move(f);
  return e;
}

TypedEvent Exit(int64_t t) {
  TypedEvent e;
  e.header.time_ms = t;
  e.header.serial = static_cast<uint64_t>(t - kT0);
  e.subject.pid = 4242;
  e.body = ProcessEnd{0};
  return e;
}

const FileEvent& F(const TypedEvent& e) { return std::get<FileEvent>(e.body); }

// Feeds events one batch each, as a pipeline would with small batches;
// keeps what comes out.
class Resolver {
 public:
  explicit Resolver(PathResolverOptions options = {}, LiveDirectories* live = nullptr)
      : resolver(options, live) {}
  void Feed(TypedEvent e, int64_t now = kT0) {
    EventBatch batch;
    batch.push_back(std::move(e));
    resolver.Process(&batch, now);
    for (TypedEvent& out : batch) released.push_back(std::move(out));
  }
  void Flush() {
    EventBatch batch;
    resolver.Flush(&batch);
    for (TypedEvent& out : batch) released.push_back(std::move(out));
  }
  PathResolver resolver;
  std::vector<TypedEvent> released;
};

TEST(DirectoryMapTest, ChainsNamesToAnAbsoluteEntry) {
  DirectoryMap map;
  const DirKey top{0, kDev, 22}, sub{0, kDev, 23}, deeper{0, kDev, 24};
  map.SetChild(deeper, sub, "deeper");
  map.SetChild(sub, top, "sub");
  DirKey key = deeper;
  std::string relative = "secret.txt";
  EXPECT_FALSE(map.Resolve(&key, &relative));
  EXPECT_EQ(key, top);
  EXPECT_EQ(relative, "sub/deeper/secret.txt");
  map.SetPath(top, "/var/tmp/rmtest");
  key = deeper;
  relative = "secret.txt";
  EXPECT_TRUE(map.Resolve(&key, &relative));
  EXPECT_EQ(relative, "/var/tmp/rmtest/sub/deeper/secret.txt");
  EXPECT_EQ(map.PathOf(top), "/var/tmp/rmtest");
  EXPECT_EQ(map.PathOf(DirKey{0, kDev, 99}), "");
}

TEST(DirectoryMapTest, BoundedOldestFirstAndCyclesEnd) {
  DirectoryMap map(3);
  for (uint64_t i = 1; i <= 5; ++i) map.SetPath(DirKey{0, kDev, i}, "/d" + std::to_string(i));
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.stats().evicted, 2u);
  EXPECT_EQ(map.PathOf(DirKey{0, kDev, 1}), "");
  EXPECT_EQ(map.PathOf(DirKey{0, kDev, 5}), "/d5");
  // A stale pair pointing at each other is not a loop forever.
  DirectoryMap loop;
  loop.SetChild(DirKey{0, kDev, 7}, DirKey{0, kDev, 8}, "a");
  loop.SetChild(DirKey{0, kDev, 8}, DirKey{0, kDev, 7}, "b");
  DirKey key{0, kDev, 7};
  std::string relative = "f";
  EXPECT_FALSE(loop.Resolve(&key, &relative));
}

TEST(DirectoryMapTest, MoveRewritesAbsoluteEntriesBelowOrDropsThemAll) {
  DirectoryMap map;
  const DirKey a{0, kDev, 1}, b{0, kDev, 2}, other{0, kDev, 3}, p{0, kDev, 9};
  map.SetPath(p, "/p");
  map.SetChild(a, p, "a");
  map.SetPath(b, "/p/a/b");  // learned from an absolute name
  map.SetPath(other, "/q");
  std::string old_path, moved_to;
  map.Move(a, "", p, "z", &old_path, &moved_to);
  EXPECT_EQ(old_path, "/p/a");
  EXPECT_EQ(moved_to, "/p/z");
  EXPECT_EQ(map.PathOf(b), "/p/z/b");
  EXPECT_EQ(map.PathOf(other), "/q");
  // From a place not known: no absolute entry can be trusted.
  const DirKey lost{0, kDev, 4};
  map.Move(lost, "/r/lost", DirKey(), "", &old_path, &moved_to);
  EXPECT_EQ(old_path, "");
  EXPECT_EQ(map.PathOf(other), "");
  EXPECT_EQ(map.PathOf(lost), "/r/lost");
}

// rm -rf /var/tmp/rmtest run from /: every name relative to a descriptor,
// the tree's own path only in the last event. Nothing leaves before it;
// then everything, in order, with its real path.
TEST(PathResolverTest, RmRfChainsBottomUpOnTheLastEvent) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kDelete, "secret.txt", Relative(24)));
  r.Feed(File(kT0 + 2, FileOperation::kRmdir, "deeper", Relative(23, 24)));
  r.Feed(File(kT0 + 3, FileOperation::kRmdir, "sub", Relative(22, 23)));
  r.Feed(File(kT0 + 4, FileOperation::kDelete, "a.txt", Relative(22)));
  EXPECT_TRUE(r.released.empty());
  EXPECT_EQ(r.resolver.held(), 4u);
  r.Feed(File(kT0 + 5, FileOperation::kRmdir, "/var/tmp/rmtest", Absolute(10, 22)));
  ASSERT_EQ(r.released.size(), 5u);
  const std::vector<std::string> want = {"/var/tmp/rmtest/sub/deeper/secret.txt",
                                         "/var/tmp/rmtest/sub/deeper", "/var/tmp/rmtest/sub",
                                         "/var/tmp/rmtest/a.txt", "/var/tmp/rmtest"};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(F(r.released[i]).path, want[i]) << i;
    EXPECT_FALSE(F(r.released[i]).path_origin.unresolved) << i;
    EXPECT_EQ(r.released[i].header.time_ms, kT0 + 1 + static_cast<int64_t>(i));
  }
  EXPECT_EQ(r.resolver.stats().resolved_later, 4u);
  EXPECT_EQ(r.resolver.stats().unresolved, 0u);
}

// The other order: the directories are known first (mkdir -p with
// absolute names, then files created through a descriptor): at once.
TEST(PathResolverTest, KnownDirectoriesResolveAtOnce) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kMkdir, "/w/a", Absolute(10, 30)));
  r.Feed(File(kT0 + 2, FileOperation::kMkdir, "b", Relative(30, 31)));
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "f", Relative(31)));
  // A name with a directory part: only its last component is in dir 31.
  r.Feed(File(kT0 + 4, FileOperation::kCreate, "b/g", Relative(31)));
  ASSERT_EQ(r.released.size(), 4u);
  EXPECT_EQ(F(r.released[1]).path, "/w/a/b");
  EXPECT_EQ(F(r.released[2]).path, "/w/a/b/f");
  EXPECT_EQ(F(r.released[3]).path, "/w/a/b/g");
  EXPECT_EQ(r.resolver.held(), 0u);
  EXPECT_EQ(r.resolver.stats().resolved_at_once, 3u);
}

// A child known by its absolute path reveals its parent when a later event
// names it under that parent's inode.
TEST(PathResolverTest, AChildsPathRevealsItsParent) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f", Relative(40)));
  r.Feed(File(kT0 + 2, FileOperation::kChmod, "/srv/data/logs", Absolute(0, 41)));
  EXPECT_EQ(r.released.size(), 0u);
  // chmod(dirfd of /srv/data, "logs"): logs (41) is in 40.
  r.Feed(File(kT0 + 3, FileOperation::kChmod, "logs", Relative(40, 41)));
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[0]).path, "/srv/data/f");
  EXPECT_EQ(F(r.released[2]).path, "/srv/data/logs");
}

// Whatever follows a waiting event waits behind it: the store sees the
// stream in order.
TEST(PathResolverTest, EventsBehindAWaitingOneKeepTheirOrder) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kDelete, "x", Relative(50)));
  r.Feed(Exit(kT0 + 2));
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "/abs/y", Absolute(51)));
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 4, FileOperation::kRmdir, "/d", Absolute(2, 50)));
  ASSERT_EQ(r.released.size(), 4u);
  EXPECT_EQ(F(r.released[0]).path, "/d/x");
  EXPECT_TRUE(std::holds_alternative<ProcessEnd>(r.released[1].body));
  EXPECT_EQ(F(r.released[2]).path, "/abs/y");
}

// Past the window (event time) a waiting event goes on unresolved: its
// name relative to the highest directory the chain reached.
TEST(PathResolverTest, WindowExpiryLeavesTheNameRelativeToItsDirectory) {
  PathResolverOptions options;
  options.window_ms = 1000;
  Resolver r(options);
  r.Feed(File(kT0, FileOperation::kDelete, "secret.txt", Relative(24)));
  r.Feed(File(kT0 + 10, FileOperation::kRmdir, "deeper", Relative(23, 24)));
  r.Feed(File(kT0 + 999, FileOperation::kCreate, "/x/y", Absolute(60)));
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 1000, FileOperation::kCreate, "/x/z", Absolute(60)));
  ASSERT_GE(r.released.size(), 1u);
  const FileEvent& f = F(r.released[0]);
  EXPECT_TRUE(f.path_origin.unresolved);
  EXPECT_EQ(f.path, "deeper/secret.txt");
  EXPECT_EQ(f.path_origin.dir_inode, 23u);
  EXPECT_EQ(f.path_origin.dir_dev, kDev);
  EXPECT_EQ(r.resolver.stats().expired, 1u);
  // The rmdir (time +10) still has 10 ms to go.
  EXPECT_EQ(r.released.size(), 1u);
  // A directory revealed after the window does not change what went out.
  r.Feed(File(kT0 + 1001, FileOperation::kRmdir, "/var/tmp/rmtest", Absolute(10, 23)));
  r.Flush();
  ASSERT_EQ(r.released.size(), 5u);
  EXPECT_EQ(F(r.released[1]).path, "/var/tmp/rmtest/deeper");
  EXPECT_EQ(F(r.released[0]).path, "deeper/secret.txt");
  EXPECT_EQ(r.resolver.stats().unresolved, 1u);
}

// Flush (end of a replay, shutdown): what still waits goes on unresolved.
TEST(PathResolverTest, FlushReleasesEverythingUnresolved) {
  Resolver r;
  r.Feed(File(kT0, FileOperation::kCreate, "f", Relative(70)));
  r.Feed(Exit(kT0 + 1));
  r.Flush();
  ASSERT_EQ(r.released.size(), 2u);
  EXPECT_TRUE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(F(r.released[0]).path, "f");
  EXPECT_EQ(F(r.released[0]).path_origin.dir_inode, 70u);
  EXPECT_EQ(r.resolver.held(), 0u);
}

// A daemon writing through a descriptor of a directory no event names:
// each event waits its window and goes on unresolved; what is held stays
// bounded by the window.
TEST(PathResolverTest, AStreamOfUnresolvableNamesStaysBounded) {
  PathResolverOptions options;
  options.window_ms = 100;
  Resolver r(options);
  for (int i = 0; i < 1000; ++i) {
    r.Feed(File(kT0 + 10 * i, FileOperation::kCreate, "log" + std::to_string(i), Relative(77)));
    EXPECT_LE(r.resolver.held(), 11u);
  }
  r.Flush();
  ASSERT_EQ(r.released.size(), 1000u);
  for (const TypedEvent& e : r.released) EXPECT_TRUE(F(e).path_origin.unresolved);
  EXPECT_EQ(r.resolver.stats().unresolved, 1000u);
  EXPECT_GE(r.resolver.stats().expired, 989u);
}

// No directory inode at all (a write through a descriptor to a file that
// exists: no PARENT item) and no /proc: unresolved at once, never held.
TEST(PathResolverTest, NothingToWaitForIsNotHeld) {
  Resolver r;
  PathOrigin o = Relative(0);
  o.dir_dev = 0;
  r.Feed(File(kT0, FileOperation::kWrite, "log.txt", o));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_TRUE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(F(r.released[0]).path, "log.txt");
  EXPECT_EQ(F(r.released[0]).path_origin.dir_inode, 0u);
}

// The bound: past max_held the oldest goes on, unresolved, counted.
TEST(PathResolverTest, TheBoundPushesTheOldestOut) {
  PathResolverOptions options;
  options.max_held = 3;
  Resolver r(options);
  for (int i = 0; i < 5; ++i)
    r.Feed(File(kT0 + i, FileOperation::kCreate, "f" + std::to_string(i), Relative(80 + i)));
  ASSERT_EQ(r.released.size(), 2u);
  EXPECT_EQ(r.resolver.held(), 3u);
  EXPECT_EQ(F(r.released[0]).path, "f0");
  EXPECT_TRUE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(r.resolver.stats().evicted, 2u);
  EXPECT_EQ(r.resolver.stats().unresolved, 2u);
}

// A directory renamed between two events: the rename's old name completes
// what waited on it; what came after gets the new name.
TEST(PathResolverTest, DirectoryRenamedBetweenEvents) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f1", Relative(90)));
  // renameat2(AT_FDCWD, "/p/d", AT_FDCWD, "/p/e"): 90 moves.
  r.Feed(File(kT0 + 2, FileOperation::kRename, "/p/d", Absolute(9, 90), "/p/e", Absolute(9, 90)));
  ASSERT_EQ(r.released.size(), 2u);
  EXPECT_EQ(F(r.released[0]).path, "/p/d/f1");
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "f2", Relative(90)));
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[2]).path, "/p/e/f2");
}

// The same rename through descriptors, the parent still unknown: the
// waiting name follows the old place, the later one the new.
TEST(PathResolverTest, DirectoryRenamedThroughDescriptorsBeforeItsParentIsKnown) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f1", Relative(90)));
  r.Feed(File(kT0 + 2, FileOperation::kRename, "d", Relative(9, 90), "e", Relative(9, 90)));
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "f2", Relative(90)));
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 4, FileOperation::kRmdir, "/p", Absolute(1, 9)));
  ASSERT_EQ(r.released.size(), 4u);
  EXPECT_EQ(F(r.released[0]).path, "/p/d/f1");
  EXPECT_EQ(F(r.released[1]).path, "/p/d");
  EXPECT_EQ(F(r.released[1]).new_path, "/p/e");
  EXPECT_EQ(F(r.released[2]).path, "/p/e/f2");
}

// An event waiting on a directory below one that was renamed later: the
// path found afterwards shows the new name, and is taken back to the old.
TEST(PathResolverTest, AnAncestorRenamedWhileWaitingIsUndone) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f", Relative(100)));
  // mv /p/m /p/n (m is 101, an ancestor of 100, not yet known as one).
  r.Feed(File(kT0 + 2, FileOperation::kRename, "/p/m", Absolute(9, 101), "/p/n", Absolute(9, 101)));
  // 100 is "x" in 101, revealed after the rename.
  r.Feed(File(kT0 + 3, FileOperation::kRmdir, "x", Relative(101, 100)));
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[0]).path, "/p/m/x/f");
  EXPECT_EQ(F(r.released[2]).path, "/p/n/x");
}

// The same when the rename's new place is not known: no way to tell, so
// the name stays unresolved rather than maybe wrong.
TEST(PathResolverTest, AnUncheckableRenameLeavesWaitingNamesUnresolved) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f", Relative(100)));
  r.Feed(File(kT0 + 2, FileOperation::kRename, "m", Relative(8, 101), "n", Relative(8, 101)));
  r.Feed(File(kT0 + 3, FileOperation::kRmdir, "/p/n/x", Absolute(101, 100)));
  r.Flush();
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_TRUE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(F(r.released[0]).path, "f");
  EXPECT_EQ(F(r.released[0]).path_origin.dir_inode, 100u);
}

// A directory renamed below the one a name waits on cannot be above it:
// the name is still completed, though the rename's own paths were not
// known (the C helper's case: b renamed to c in a directory no event had
// named yet).
TEST(PathResolverTest, ARenameBelowTheAwaitedDirectoryDoesNotMatter) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kMkdir, "a", Relative(200, 201)));
  r.Feed(File(kT0 + 2, FileOperation::kMkdir, "b", Relative(201, 202)));
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "f1", Relative(202)));
  r.Feed(File(kT0 + 4, FileOperation::kRename, "b", Relative(201, 202), "c", Relative(201, 202)));
  r.Feed(File(kT0 + 5, FileOperation::kCreate, "f2", Relative(202)));
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 6, FileOperation::kChmod, "/root/dir", Absolute(0, 200)));
  ASSERT_EQ(r.released.size(), 6u);
  EXPECT_EQ(F(r.released[0]).path, "/root/dir/a");
  EXPECT_EQ(F(r.released[1]).path, "/root/dir/a/b");
  EXPECT_EQ(F(r.released[2]).path, "/root/dir/a/b/f1");
  EXPECT_EQ(F(r.released[3]).path, "/root/dir/a/b");
  EXPECT_EQ(F(r.released[3]).new_path, "/root/dir/a/c");
  EXPECT_EQ(F(r.released[4]).path, "/root/dir/a/c/f2");
  EXPECT_EQ(r.resolver.stats().unresolved, 0u);
}

// A new directory with the inode of one whose removal was not seen: what
// waited on the old one must not get the new one's path.
TEST(PathResolverTest, AReusedInodeDoesNotCompleteOldNames) {
  Resolver r;
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "old", Relative(110)));
  r.Feed(File(kT0 + 2, FileOperation::kMkdir, "/new/dir", Absolute(5, 110)));
  ASSERT_EQ(r.released.size(), 2u);
  EXPECT_TRUE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(F(r.released[0]).path, "old");
  r.Feed(File(kT0 + 3, FileOperation::kCreate, "new", Relative(110)));
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[2]).path, "/new/dir/new");
}

// Logs of several machines: the same (dev, inode) on two nodes are two
// directories.
TEST(PathResolverTest, NodesKeepTheirOwnDirectories) {
  Resolver r;
  TypedEvent a = File(kT0 + 1, FileOperation::kMkdir, "/on/a", Absolute(5, 120));
  a.header.node = "a";
  r.Feed(std::move(a));
  TypedEvent b = File(kT0 + 2, FileOperation::kCreate, "f", Relative(120));
  b.header.node = "b";
  r.Feed(std::move(b));
  r.Flush();
  ASSERT_EQ(r.released.size(), 2u);
  EXPECT_TRUE(F(r.released[1]).path_origin.unresolved);
}

// The live part, faked: answers by (pid, dirfd), read at a given time.
class FakeLive : public LiveDirectories {
 public:
  std::optional<Answer> Lookup(const LiveQuery& q, int64_t) override {
    ++lookups;
    auto it = answers.find(q.dirfd);
    if (it == answers.end()) return std::nullopt;
    return Answer{it->second.first + "/" + std::string(q.name), it->second.second};
  }
  void ProcessEnded(int32_t) override { ++ended; }
  void DirectoryMoved() override { ++moved; }
  std::map<int32_t, std::pair<std::string, int64_t>> answers;  // dirfd -> (path, read_ms)
  int lookups = 0, ended = 0, moved = 0;
};

TEST(PathResolverTest, LiveAnswerReadBeforeTheEventHoldsAtOnce) {
  FakeLive live;
  live.answers[5] = {"/srv/state", kT0 - 500};
  Resolver r({}, &live);
  r.Feed(File(kT0, FileOperation::kCreate, "f", Relative(130)));
  ASSERT_EQ(r.released.size(), 1u);
  EXPECT_EQ(F(r.released[0]).path, "/srv/state/f");
  EXPECT_FALSE(F(r.released[0]).path_origin.unresolved);
  EXPECT_EQ(r.resolver.stats().resolved_live, 1u);
}

// Read after the event: it holds once the stream has passed the read (no
// directory rename in between), or after the settle time.
TEST(PathResolverTest, LiveAnswerReadAfterTheEventWaitsForTheStream) {
  FakeLive live;
  live.answers[5] = {"/srv/state", kT0 + 20};
  Resolver r({}, &live);
  r.Feed(File(kT0, FileOperation::kCreate, "f", Relative(130)), kT0 + 20);
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 30, FileOperation::kCreate, "/x", Absolute(3)), kT0 + 40);
  EXPECT_TRUE(r.released.empty());  // within the clock margin
  r.Feed(File(kT0 + 100, FileOperation::kCreate, "/y", Absolute(3)), kT0 + 110);
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[0]).path, "/srv/state/f");

  // Or by wall time, when no event comes.
  live.answers[5] = {"/srv/state", kT0 + 220};
  r.Feed(File(kT0 + 200, FileOperation::kCreate, "g", Relative(130)), kT0 + 220);
  EXPECT_EQ(r.released.size(), 3u);
  EventBatch out;
  r.resolver.Release(kT0 + 220 + 999, &out);
  EXPECT_TRUE(out.empty());
  r.resolver.Release(kT0 + 220 + 1000, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(F(out[0]).path, "/srv/state/g");
}

// A directory renamed after the event but before the /proc read: the
// answer shows the new name. Where the rename's two paths are known it is
// taken back to the old one.
TEST(PathResolverTest, LiveAnswerReadAfterARenameIsTakenBack) {
  FakeLive live;
  live.answers[5] = {"/p/e", kT0 + 50};  // read once the helper had renamed d to e
  Resolver r({}, &live);
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f1", Relative(90)), kT0 + 50);
  EXPECT_TRUE(r.released.empty());
  r.Feed(File(kT0 + 2, FileOperation::kRename, "/p/d", Absolute(9, 90), "/p/e", Absolute(9, 90)),
         kT0 + 51);
  EXPECT_EQ(live.moved, 1);
  r.Feed(File(kT0 + 200, FileOperation::kCreate, "/q", Absolute(3)), kT0 + 201);
  ASSERT_EQ(r.released.size(), 3u);
  EXPECT_EQ(F(r.released[0]).path, "/p/d/f1");
  EXPECT_EQ(r.resolver.stats().resolved_live, 1u);
  EXPECT_EQ(r.resolver.stats().live_revoked, 0u);
  // An answer not below the renamed directory is not concerned.
  live.answers[5] = {"/other", kT0 + 300};
  r.Feed(File(kT0 + 250, FileOperation::kCreate, "f3", Relative(95)), kT0 + 300);
  r.Feed(File(kT0 + 260, FileOperation::kRename, "/p/e", Absolute(9, 90), "/p/g", Absolute(9, 90)),
         kT0 + 301);
  r.Flush();
  ASSERT_EQ(r.released.size(), 5u);
  EXPECT_EQ(F(r.released[3]).path, "/other/f3");
}

// The rename's paths not known: the answer is dropped; the map as it was
// before the rename, or a later event, tells instead; without a directory
// inode to wait on, the name stays unresolved.
TEST(PathResolverTest, LiveAnswerReadAfterAnUnknownRenameIsDropped) {
  FakeLive live;
  live.answers[5] = {"/p/e", kT0 + 50};
  Resolver r({}, &live);
  r.Feed(File(kT0 + 1, FileOperation::kCreate, "f1", Relative(90)), kT0 + 50);
  PathOrigin no_dir = Relative(0);
  no_dir.dir_dev = 0;
  r.Feed(File(kT0 + 2, FileOperation::kWrite, "f0", no_dir), kT0 + 50);
  // Through descriptor 6, which the fake does not know.
  r.Feed(File(kT0 + 3, FileOperation::kRename, "d", Relative(9, 90, 6), "e", Relative(9, 90, 6)),
         kT0 + 51);
  EXPECT_EQ(r.resolver.stats().live_revoked, 2u);
  r.Feed(File(kT0 + 4, FileOperation::kRmdir, "/p", Absolute(1, 9)), kT0 + 52);
  ASSERT_EQ(r.released.size(), 4u);
  EXPECT_EQ(F(r.released[0]).path, "/p/d/f1");
  EXPECT_FALSE(F(r.released[0]).path_origin.unresolved);
  EXPECT_TRUE(F(r.released[1]).path_origin.unresolved);
  EXPECT_EQ(F(r.released[1]).path, "f0");
  // The process's end reaches the live part (its descriptors are gone).
  r.Feed(Exit(kT0 + 200));
  EXPECT_EQ(live.ended, 1);
}

// The enrich stage holds what waits and forwards it, in order, when a later
// event completes it, or at Flush (which then flushes the next sink).
class CaptureSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (TypedEvent& e : *events) events_.push_back(std::move(e));
    return Status::Ok();
  }
  Status Flush() override {
    ++flushes_;
    return Status::Ok();
  }
  std::vector<TypedEvent> events_;
  int flushes_ = 0;
};

TEST(PathResolverSinkTest, EnrichingSinkHoldsAndForwardsInOrder) {
  CaptureSink next;
  EnrichingSinkOptions options;
  options.hash_executables = false;
  EnrichingSink sink(&next, nullptr, nullptr, nullptr, options, [] { return kT0; });
  EventBatch first;
  first.push_back(File(kT0 + 1, FileOperation::kDelete, "secret.txt", Relative(24)));
  first.push_back(Exit(kT0 + 2));
  ASSERT_TRUE(sink.Consume(&first).ok());
  EXPECT_TRUE(next.events_.empty());
  EXPECT_EQ(sink.paths()->held(), 2u);
  EventBatch second;
  second.push_back(File(kT0 + 3, FileOperation::kRmdir, "/t/d", Absolute(5, 24)));
  second.push_back(File(kT0 + 4, FileOperation::kCreate, "late", Relative(99)));
  ASSERT_TRUE(sink.Consume(&second).ok());
  ASSERT_EQ(next.events_.size(), 3u);
  EXPECT_EQ(F(next.events_[0]).path, "/t/d/secret.txt");
  EXPECT_TRUE(std::holds_alternative<ProcessEnd>(next.events_[1].body));
  EXPECT_EQ(F(next.events_[2]).path, "/t/d");
  ASSERT_TRUE(sink.Flush().ok());
  ASSERT_EQ(next.events_.size(), 4u);
  EXPECT_TRUE(F(next.events_[3]).path_origin.unresolved);
  EXPECT_EQ(next.flushes_, 1);

  // Without the resolver, names stay as the normalizer gave them.
  CaptureSink plain_next;
  options.resolve_paths = false;
  EnrichingSink plain(&plain_next, nullptr, nullptr, nullptr, options, [] { return kT0; });
  EventBatch third;
  third.push_back(File(kT0 + 1, FileOperation::kDelete, "secret.txt", Relative(24)));
  ASSERT_TRUE(plain.Consume(&third).ok());
  ASSERT_EQ(plain_next.events_.size(), 1u);
  EXPECT_EQ(plain.paths(), nullptr);
}

// Live, a held event leaves on the wall clock too (the daemon's Tick), when
// no later event comes to move the stream's time.
TEST(PathResolverSinkTest, TickReleasesOnTheWallClockWhenLive) {
  CaptureSink next;
  EnrichingSinkOptions options;
  options.hash_executables = false;
  options.live_paths = true;  // /proc is read: no such descriptor, no answer
  options.paths.window_ms = 1000;
  EnrichingSink sink(&next, nullptr, nullptr, nullptr, options, [] { return kT0; });
  EventBatch batch;
  TypedEvent e = File(kT0, FileOperation::kCreate, "f", Relative(24, 0, 1 << 20));
  e.subject.pid = 1 << 22;  // above pid_max: no /proc entry
  batch.push_back(std::move(e));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_TRUE(sink.Tick(kT0 + 999).ok());
  EXPECT_TRUE(next.events_.empty());
  ASSERT_TRUE(sink.Tick(kT0 + 1000).ok());
  ASSERT_EQ(next.events_.size(), 1u);
  EXPECT_TRUE(F(next.events_[0]).path_origin.unresolved);
  EXPECT_EQ(sink.paths()->stats().expired, 1u);
}

// The live part on this process's own descriptors, through the real /proc.
DirKey KeyOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return DirKey{0, static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

TEST(ProcDirfdsTest, AnswersThroughADescriptorCheckedByInode) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("d/sub"));
  std::ofstream(dir.File("d/sub/f")) << "x";
  const int fd = open(dir.File("d").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ProcDirfds live;
  LiveQuery q;
  q.pid = getpid();
  q.dirfd = fd;
  q.name = "new.txt";
  q.dir = KeyOf(dir.File("d"));
  auto answer = live.Lookup(q, 1000);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->path, dir.File("d/new.txt"));
  EXPECT_EQ(answer->read_ms, 1000);
  // Cached: the same descriptor answers later names from the first read.
  q.name = "other";
  answer = live.Lookup(q, 2000);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->read_ms, 1000);
  EXPECT_EQ(live.stats().cache_hits, 1u);
  // A name with a directory part: that directory must be the event's.
  q.name = "sub/f";
  q.dir = KeyOf(dir.File("d/sub"));
  answer = live.Lookup(q, 3000);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->path, dir.File("d/sub/f"));
  EXPECT_EQ(answer->read_ms, 3000);  // it looked at the file system now
  // No directory inode: the file's own must match.
  q.name = "f";
  q.dir = DirKey();
  q.file = KeyOf(dir.File("d/sub/f"));
  EXPECT_FALSE(live.Lookup(q, 4000).has_value());  // d/f is not that file
  // Another directory's inode, "..", a closed descriptor: no answer.
  q.file = DirKey();
  q.name = "x";
  q.dir = KeyOf(dir.path());
  EXPECT_FALSE(live.Lookup(q, 5000).has_value());
  q.dir = KeyOf(dir.File("d"));
  q.name = "../x";
  EXPECT_FALSE(live.Lookup(q, 5000).has_value());
  close(fd);
  live.ProcessEnded(getpid());
  q.name = "x";
  EXPECT_FALSE(live.Lookup(q, 6000).has_value());
  EXPECT_EQ(live.cached(), 0u);
}

TEST(ProcDirfdsTest, ARemovedDirectoryIsNotAnswered) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("gone"));
  const int fd = open(dir.File("gone").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  LiveQuery q;
  q.pid = getpid();
  q.dirfd = fd;
  q.name = "f";
  q.dir = KeyOf(dir.File("gone"));
  ASSERT_EQ(rmdir(dir.File("gone").c_str()), 0);
  ProcDirfds live;
  EXPECT_FALSE(live.Lookup(q, 1000).has_value());  // "/tmp/.../gone (deleted)"
  close(fd);
}

}  // namespace
}  // namespace recorder::enrich
