// recorder_at_paths_helper ROOT PRE [HOLD_MS]: file calls through
// directory descriptors, for tests/live_paths_test.cc and
// scripts/capture-path-sample.
//
// ROOT is an empty directory; PRE an existing directory holding
// existing.txt, made before the recorder started (so no event has named
// it). Prints one line per recorded call: "operation<TAB>path<TAB>new_path"
// with the real absolute paths at the time of the call, then keeps its
// descriptors open for HOLD_MS (default 0) so that /proc/PID/fd still
// shows them. Exits 1 at the first call that fails (saying which).
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace {

void Check(long result, const char* what) {
  if (result < 0) {
    fprintf(stderr, "%s: %s\n", what, strerror(errno));
    exit(1);
  }
}

void Done(const char* operation, const std::string& path, const std::string& new_path = "") {
  printf("%s\t%s\t%s\n", operation, path.c_str(), new_path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s ROOT PRE [HOLD_MS]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1];
  const std::string pre = argv[2];
  const long hold_ms = argc > 3 ? atol(argv[3]) : 0;

  int top = open(root.c_str(), O_RDONLY | O_DIRECTORY);  // read-only: not recorded
  Check(top, "open ROOT");
  Check(mkdirat(top, "a", 0755), "mkdirat a");
  Done("mkdir", root + "/a");
  int a = openat(top, "a", O_RDONLY | O_DIRECTORY);
  Check(a, "openat a");
  Check(mkdirat(a, "b", 0755), "mkdirat b");
  Done("mkdir", root + "/a/b");
  int b = openat(a, "b", O_RDONLY | O_DIRECTORY);
  Check(b, "openat b");
  int fd = openat(b, "f1", O_CREAT | O_WRONLY, 0644);
  Check(fd, "openat f1");
  close(fd);
  Done("create", root + "/a/b/f1");

  // The directory b is renamed while the helper holds it: what comes
  // through b after this is in a/c.
  Check(renameat2(a, "b", a, "c", 0), "renameat2 b c");
  Done("rename", root + "/a/b", root + "/a/c");
  fd = openat(b, "f2", O_CREAT | O_WRONLY, 0644);
  Check(fd, "openat f2");
  close(fd);
  Done("create", root + "/a/c/f2");
  Check(renameat2(b, "f2", a, "moved", RENAME_NOREPLACE), "renameat2 f2 moved");
  Done("rename", root + "/a/c/f2", root + "/a/moved");
  Check(fchmodat(b, "f1", 0600, 0), "fchmodat f1");
  Done("chmod", root + "/a/c/f1");
  Check(fchownat(b, "f1", getuid(), getgid(), 0), "fchownat f1");
  Done("chown", root + "/a/c/f1");
  Check(utimensat(b, "f1", nullptr, 0), "utimensat f1");
  Done("set_times", root + "/a/c/f1");
  Check(futimesat(b, "f1", nullptr), "futimesat f1");
  Done("set_times", root + "/a/c/f1");
  Check(linkat(b, "f1", a, "hard", 0), "linkat f1 hard");
  Done("link", root + "/a/hard", root + "/a/c/f1");
  Check(symlinkat("f1", b, "sym"), "symlinkat sym");
  Done("link", root + "/a/c/sym", "f1");
  Check(mknodat(b, "fifo", S_IFIFO | 0644, 0), "mknodat fifo");
  Done("create", root + "/a/c/fifo");
  struct open_how how {};
  how.flags = O_CREAT | O_WRONLY;
  how.mode = 0600;
  fd = static_cast<int>(syscall(SYS_openat2, b, "o2", &how, sizeof(how)));
  Check(fd, "openat2 o2");
  close(fd);
  Done("create", root + "/a/c/o2");
  Check(mkdirat(b, "d", 0755), "mkdirat d");
  Done("mkdir", root + "/a/c/d");
  Check(unlinkat(b, "sym", 0), "unlinkat sym");
  Done("delete", root + "/a/c/sym");
  Check(unlinkat(b, "d", AT_REMOVEDIR), "unlinkat d");
  Done("rmdir", root + "/a/c/d");

  // A directory no event has named: only a later event (its rename by
  // absolute path) or /proc can tell where it is. Writing a file that
  // exists names no directory inode at all: /proc alone can tell.
  int p = open(pre.c_str(), O_RDONLY | O_DIRECTORY);
  Check(p, "open PRE");
  fd = openat(p, "x", O_CREAT | O_WRONLY, 0644);
  Check(fd, "openat x");
  close(fd);
  Done("create", pre + "/x");
  fd = openat(p, "existing.txt", O_WRONLY | O_TRUNC);
  Check(fd, "openat existing.txt");
  close(fd);
  Done("write", pre + "/existing.txt");
  const std::string moved = pre + "-moved";
  Check(renameat(AT_FDCWD, pre.c_str(), AT_FDCWD, moved.c_str()), "renameat PRE");
  Done("rename", pre, moved);
  fd = openat(p, "y", O_CREAT | O_WRONLY, 0644);
  Check(fd, "openat y");
  close(fd);
  Done("create", moved + "/y");
  fd = openat(p, "existing.txt", O_WRONLY | O_APPEND);
  Check(fd, "openat existing.txt again");
  close(fd);
  Done("write", moved + "/existing.txt");
  // Last, ROOT by its absolute path: the first event that tells where all
  // of the above is.
  Check(fchmodat(AT_FDCWD, root.c_str(), 0755, 0), "fchmodat ROOT");
  Done("chmod", root);
  fflush(stdout);

  if (hold_ms > 0) {
    struct timespec pause = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
    nanosleep(&pause, nullptr);
  }
  close(p);
  close(b);
  close(a);
  close(top);
  return 0;
}
