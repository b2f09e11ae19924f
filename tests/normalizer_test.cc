#include "normalize/normalizer.h"

#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "normalize/event_codes.h"
#include "parse/record_parser.h"

namespace recorder {
namespace {

// Hex spelling of text, as the kernel writes untrusted strings.
std::string Hex(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

constexpr const char* kX86 = "arch=c000003e";
// The task fields of a SYSCALL record after a0..a3.
constexpr const char* kTask =
    "items=0 ppid=1 pid=100 auid=1000 uid=1000 gid=1001 euid=1000 suid=1000 fsuid=1000 "
    "egid=1001 sgid=1001 fsgid=1001 tty=pts0 ses=3 comm=\"tool\" exe=\"/usr/bin/tool\" "
    "key=\"watch\"";

class NormalizerTest : public ::testing::Test {
 protected:
  // One audit event from record bodies "TYPE fields..." (all get the
  // same timestamp and serial).
  std::unique_ptr<AuditEvent> Event(std::initializer_list<std::string> records,
                                    uint64_t serial = 42) {
    auto event = std::make_unique<AuditEvent>();
    for (const std::string& r : records) {
      size_t space = r.find(' ');
      std::string line = "type=" + r.substr(0, space) +
                         " msg=audit(1700000000.250:" + std::to_string(serial) +
                         "): " + (space == std::string::npos ? "" : r.substr(space + 1));
      AuditRecord record;
      EXPECT_EQ(ParseRecordLine(line, &record), ParseError::kNone) << line;
      event->Add(record);  // copies the text: `line` may go
    }
    return event;
  }
  // A SYSCALL record body.
  static std::string Sys(const std::string& arch_and_number, const std::string& result,
                         const std::string& args) {
    return "SYSCALL " + arch_and_number + " " + result + " " + args + " " + kTask;
  }
  EventBatch Run(const AuditEvent& event) {
    EventBatch out;
    normalizer_->Normalize(event, &out);
    return out;
  }
  EventBatch Run(std::initializer_list<std::string> records) { return Run(*Event(records)); }
  void Reset(NormalizerOptions options) { normalizer_ = std::make_unique<Normalizer>(options); }

  std::unique_ptr<Normalizer> normalizer_ = std::make_unique<Normalizer>();
};

// ---------------------------------------------------------------------------
// Process start

TEST_F(NormalizerTest, ExecveHeaderSubjectAndArgv) {
  auto out =
      Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=55d0 a1=55e0 a2=55f0 a3=0"),
           "EXECVE argc=3 a0=\"ls\" a1=\"-l\" a2=\"/tmp\"", "CWD cwd=\"/home/u\"",
           "PROCTITLE proctitle=6C73002D6C002F746D70"});
  ASSERT_EQ(out.size(), 1u);
  const TypedEvent& e = out[0];
  EXPECT_EQ(e.header.arch, "x86_64");
  EXPECT_EQ(e.header.syscall, "execve");
  EXPECT_EQ(e.header.key, "watch");
  EXPECT_EQ(e.header.serial, 42u);
  EXPECT_EQ(e.header.time_ms, 1700000000250);
  EXPECT_TRUE(e.header.success);
  EXPECT_FALSE(e.header.partial);
  EXPECT_EQ(e.subject.pid, 100);
  EXPECT_EQ(e.subject.ppid, 1);
  EXPECT_EQ(e.subject.uid, 1000);
  EXPECT_EQ(e.subject.gid, 1001);
  EXPECT_EQ(e.subject.egid, 1001);
  EXPECT_EQ(e.subject.auid, 1000);
  EXPECT_EQ(e.subject.ses, 3);
  EXPECT_EQ(e.subject.tty, "pts0");
  EXPECT_EQ(e.subject.comm, "tool");
  EXPECT_EQ(e.subject.exe, "/usr/bin/tool");
  const auto& p = std::get<ProcessStart>(e.body);
  EXPECT_EQ(p.argv, (std::vector<std::string>{"ls", "-l", "/tmp"}));
  EXPECT_EQ(p.argc, 3);
  EXPECT_FALSE(p.argv_truncated);
  EXPECT_EQ(p.cwd, "/home/u");
  EXPECT_EQ(p.proctitle, "ls -l /tmp");
  EXPECT_EQ(normalizer_->stats().process_start, 1u);
  EXPECT_EQ(normalizer_->stats().events_in, 1u);
}

TEST_F(NormalizerTest, UnsetIdsTtyAndNullKey) {
  auto out =
      Run({"SYSCALL arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
           "ppid=1 pid=7 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 "
           "sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"c\" exe=\"/c\" key=(null)",
           "EXECVE argc=1 a0=\"c\""});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject.auid, kUnsetId);
  EXPECT_EQ(out[0].subject.ses, kUnsetId);
  EXPECT_EQ(out[0].subject.uid, 0);
  EXPECT_EQ(out[0].subject.tty, "");
  EXPECT_EQ(out[0].header.key, "");
}

TEST_F(NormalizerTest, SeveralKeysAreHexWithSeparatorsAndJoinedWithCommas) {
  std::string keys =
      Hex(std::string("exec\x01"
                      "watch",
                      10));
  auto out =
      Run({"SYSCALL arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
           "ppid=1 pid=7 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
           "fsgid=0 tty=(none) ses=1 comm=\"c\" exe=\"/c\" key=" +
               keys,
           "EXECVE argc=1 a0=\"c\""});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.key, "exec,watch");
}

TEST_F(NormalizerTest, ArgvIsInNumericOrderA10AfterA9) {
  // Fields written out of order on purpose: order must come from the numbers.
  auto out =
      Run({Sys(kX86 + std::string(" syscall=59"), "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
           "EXECVE argc=12 a0=\"p\" a1=\"1\" a10=\"10\" a11=\"11\" a2=\"2\" a3=\"3\" "
           "a4=\"4\" a5=\"5\" a6=\"6\" a7=\"7\" a8=\"8\" a9=\"9\""});
  ASSERT_EQ(out.size(), 1u);
  const auto& p = std::get<ProcessStart>(out[0].body);
  EXPECT_EQ(p.argv, (std::vector<std::string>{"p", "1", "2", "3", "4", "5", "6", "7", "8", "9",
                                              "10", "11"}));
  EXPECT_FALSE(p.argv_truncated);
}

TEST_F(NormalizerTest, HexArgsWithSpacesQuotesAndUnicodeAreDecoded) {
  const std::string special[] = {"a b", "q\"uote", "héllo 日本語", "tab\there", ""};
  auto out =
      Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
           "EXECVE argc=6 a0=\"/bin/echo\" a1=" + Hex(special[0]) + " a2=" + Hex(special[1]) +
               " a3=" + Hex(special[2]) + " a4=" + Hex(special[3]) + " a5=\"\""});
  ASSERT_EQ(out.size(), 1u);
  const auto& p = std::get<ProcessStart>(out[0].body);
  ASSERT_EQ(p.argv.size(), 6u);
  EXPECT_EQ(p.argv[0], "/bin/echo");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(p.argv[i + 1], special[i]);
  EXPECT_EQ(p.argv[5], "");
  EXPECT_FALSE(p.argv_truncated);
}

TEST_F(NormalizerTest, SplitArgumentIsJoinedInChunkOrder) {
  const std::string part0(100, 'x');
  const std::string part1 = "tail end";
  // aN_len in hex digits (the kernel's count for an encoded argument), chunks
  // listed out of order.
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=3 a0=\"/bin/true\" a1_len=" +
                      std::to_string(2 * (part0.size() + part1.size())) + " a1[1]=" + Hex(part1) +
                      " a1[0]=" + Hex(part0) + " a2=\"after\""});
  ASSERT_EQ(out.size(), 1u);
  const auto& p = std::get<ProcessStart>(out[0].body);
  ASSERT_EQ(p.argv.size(), 3u);
  EXPECT_EQ(p.argv[1], part0 + part1);
  EXPECT_EQ(p.argv[2], "after");
  EXPECT_FALSE(p.argv_truncated);
}

TEST_F(NormalizerTest, SplitArgumentLengthInBytesAlsoAccepted) {
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=2 a0=\"t\" a1_len=6 a1[0]=\"abc\" a1[1]=\"def\""});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  EXPECT_EQ(p.argv.at(1), "abcdef");
  EXPECT_FALSE(p.argv_truncated);
}

TEST_F(NormalizerTest, SplitArgumentWithMissingChunkIsTruncated) {
  // a1_len says 8 bytes (16 hex digits) but only 4 bytes arrived.
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=2 a0=\"t\" a1_len=16 a1[0]=" + Hex("abcd")});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  EXPECT_EQ(p.argv.at(1), "abcd");
  EXPECT_TRUE(p.argv_truncated);
}

TEST_F(NormalizerTest, ExecveSplitOverSeveralRecords) {
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=5 a0=\"prog\" a1=\"one\"", "EXECVE a2_len=12 a2[0]=" + Hex("two"),
                  "EXECVE a2[1]=" + Hex("TWO") + " a3=\"three\" a4=\"four\"", "CWD cwd=\"/\""});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  EXPECT_EQ(p.argv, (std::vector<std::string>{"prog", "one", "twoTWO", "three", "four"}));
  EXPECT_FALSE(p.argv_truncated);
  EXPECT_EQ(p.argc, 5);
}

TEST_F(NormalizerTest, MissingArgumentsMarkArgvTruncated) {
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=4 a0=\"prog\" a1=\"one\""});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  EXPECT_EQ(p.argv, (std::vector<std::string>{"prog", "one"}));
  EXPECT_EQ(p.argc, 4);
  EXPECT_TRUE(p.argv_truncated);
}

TEST_F(NormalizerTest, ProctitleFallbackWhenExecveRecordMissing) {
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "CWD cwd=\"/srv\"", "PROCTITLE proctitle=" + Hex(std::string("vi\0a b", 6))});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  EXPECT_EQ(p.argv, (std::vector<std::string>{"vi", "a b"}));
  EXPECT_FALSE(p.argv_truncated);
  EXPECT_EQ(p.cwd, "/srv");
  EXPECT_EQ(p.proctitle, "vi a b");
}

TEST_F(NormalizerTest, ProctitleAtKernelLimitMarksTruncated) {
  std::string title = "python3";
  title.push_back('\0');
  title += std::string(128 - title.size(), 'y');
  auto out = Run({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "PROCTITLE proctitle=" + Hex(title)});
  const auto& p = std::get<ProcessStart>(out.at(0).body);
  ASSERT_EQ(p.argv.size(), 2u);
  EXPECT_EQ(p.argv[0], "python3");
  EXPECT_TRUE(p.argv_truncated);
}

TEST_F(NormalizerTest, FailedExecIsAnEventOfTheCallerNotAProcessStart) {
  // EACCES: not a PATH search miss, so it goes on at once. The kernel logs
  // no EXECVE record, and the PROCTITLE is the caller's: neither is used.
  auto out = Run({Sys("arch=c000003e syscall=59", "success=no exit=-13", "a0=1 a1=2 a2=3 a3=4"),
                  "CWD cwd=\"/srv\"", "PATH item=0 name=\"bin/../run.sh\" nametype=NORMAL",
                  "PROCTITLE proctitle=\"bash\""});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].header.success);
  EXPECT_EQ(out[0].header.exit, -13);
  EXPECT_EQ(out[0].header.syscall, "execve");
  EXPECT_EQ(out[0].subject.exe, "/usr/bin/tool");  // the caller
  const auto& f = std::get<ExecFailure>(out[0].body);
  EXPECT_EQ(f.path, "/srv/run.sh");  // made absolute against the cwd, like file paths
  EXPECT_EQ(f.error, 13);
  EXPECT_EQ(ErrnoName(f.error), "EACCES");
  EXPECT_EQ(f.cwd, "/srv");
  EXPECT_EQ(normalizer_->stats().failed_exec, 1u);
  EXPECT_EQ(normalizer_->stats().process_start, 0u);
}

TEST_F(NormalizerTest, AnEnoentExecWaitsForWhatItsProcessDoesNext) {
  // It may be a PATH search miss (path_search_test.cc): held back, and
  // still there at the end of the input.
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=59", "success=no exit=-2", "a0=1 a1=2 a2=3 a3=4"),
                   "CWD cwd=\"/\"", "PATH item=0 name=\"/nonexistent/x\" nametype=UNKNOWN",
                   "PROCTITLE proctitle=\"bash\""})
                  .empty());
  EventBatch out;
  normalizer_->Flush(&out);
  ASSERT_EQ(out.size(), 1u);
  const auto& f = std::get<ExecFailure>(out[0].body);
  EXPECT_EQ(f.path, "/nonexistent/x");
  EXPECT_EQ(ErrnoName(f.error), "ENOENT");
  EXPECT_EQ(normalizer_->stats().failed_exec, 1u);
}

TEST_F(NormalizerTest, I386AndAarch64SyscallNumbersMapByName) {
  // execve is 11 on i386, 221 on aarch64; 59 on aarch64 is pipe2 (ignored).
  auto i386 = Run({Sys("arch=40000003 syscall=11", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                   "EXECVE argc=1 a0=\"x\""});
  ASSERT_EQ(i386.size(), 1u);
  EXPECT_EQ(i386[0].header.arch, "i386");
  EXPECT_EQ(i386[0].header.syscall, "execve");
  EXPECT_TRUE(std::holds_alternative<ProcessStart>(i386[0].body));

  auto arm = Run({Sys("arch=c00000b7 syscall=221", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                  "EXECVE argc=1 a0=\"y\""});
  ASSERT_EQ(arm.size(), 1u);
  EXPECT_EQ(arm[0].header.arch, "aarch64");
  EXPECT_EQ(arm[0].header.syscall, "execve");

  EXPECT_TRUE(
      Run({Sys("arch=c00000b7 syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4")}).empty());

  // aarch64 openat (56) with O_WRONLY|O_CREAT.
  auto open = Run({Sys("arch=c00000b7 syscall=56", "success=yes exit=3",
                       "a0=ffffffffffffff9c a1=1 a2=41 a3=1a4"),
                   "CWD cwd=\"/\"", "PATH item=0 name=\"/tmp/\" nametype=PARENT",
                   "PATH item=1 name=\"/tmp/new\" nametype=CREATE"});
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].header.syscall, "openat");
  EXPECT_EQ(std::get<FileEvent>(open[0].body).operation, FileOperation::kCreate);

  // i386 exit_group is 252.
  auto exit = Run({Sys("arch=40000003 syscall=252", "success=yes exit=0", "a0=2 a1=0 a2=0 a3=0")});
  ASSERT_EQ(exit.size(), 1u);
  EXPECT_EQ(exit[0].header.syscall, "exit_group");
  EXPECT_EQ(std::get<ProcessEnd>(exit[0].body).exit_code, 2);
}

TEST_F(NormalizerTest, SetuidExecAlsoEmitsPrivilegeChange) {
  auto out =
      Run({"SYSCALL arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 "
           "ppid=1 pid=50 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 "
           "sgid=1000 fsgid=1000 tty=pts1 ses=2 comm=\"passwd\" exe=\"/usr/bin/passwd\" "
           "key=(null)",
           "EXECVE argc=1 a0=\"passwd\""});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<ProcessStart>(out[0].body));
  const auto& s = std::get<SecurityEvent>(out[1].body);
  EXPECT_EQ(s.kind, SecurityKind::kPrivilegeChange);
  EXPECT_EQ(s.user, "1000");
  EXPECT_EQ(s.target_user, "0");
  EXPECT_EQ(s.terminal, "pts1");
  EXPECT_EQ(out[1].subject.pid, 50);
  EXPECT_EQ(out[1].header.syscall, "execve");
  EXPECT_EQ(normalizer_->stats().security, 1u);
  EXPECT_EQ(normalizer_->stats().process_start, 1u);
}

// ---------------------------------------------------------------------------
// Process end

TEST_F(NormalizerTest, ExitGroupCodeFromA0) {
  auto out = Run({Sys("arch=c000003e syscall=231", "success=yes exit=0", "a0=3 a1=0 a2=0 a3=0")});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessEnd>(out[0].body).exit_code, 3);
  auto neg =
      Run({Sys("arch=c000003e syscall=231", "success=yes exit=0", "a0=ffffffff a1=0 a2=0 a3=0")});
  EXPECT_EQ(std::get<ProcessEnd>(neg.at(0).body).exit_code, -1);
}

TEST_F(NormalizerTest, AnomAbendIsAProcessEndBySignal) {
  auto out =
      Run({"ANOM_ABEND auid=0 uid=0 gid=0 ses=11 pid=10269 comm=\"sh\" "
           "exe=\"/usr/bin/dash\" sig=11 res=1"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(std::get<ProcessEnd>(out[0].body).exit_code, 139);
  EXPECT_EQ(out[0].subject.pid, 10269);
  EXPECT_EQ(out[0].subject.exe, "/usr/bin/dash");
  EXPECT_FALSE(out[0].header.success);
}

// ---------------------------------------------------------------------------
// Files

TEST_F(NormalizerTest, OpenWithCreateOnNewFileIsCreate) {
  // open(path, O_WRONLY|O_CREAT|O_TRUNC): flags in a1.
  auto out = Run({Sys("arch=c000003e syscall=2", "success=yes exit=3", "a0=7ff a1=241 a2=1b6 a3=0"),
                  "CWD cwd=\"/home/u\"", "PATH item=0 name=\"/tmp/\" nametype=PARENT",
                  "PATH item=1 name=\"/tmp/new.txt\" nametype=CREATE"});
  ASSERT_EQ(out.size(), 1u);
  const auto& f = std::get<FileEvent>(out[0].body);
  EXPECT_EQ(f.operation, FileOperation::kCreate);
  EXPECT_EQ(f.path, "/tmp/new.txt");
  EXPECT_EQ(out[0].header.syscall, "open");
}

TEST_F(NormalizerTest, OpenatWriteOfExistingFileIsWriteRelativeToCwd) {
  // openat(AT_FDCWD, "../data/./log", O_WRONLY|O_APPEND): flags in a2.
  auto out =
      Run({Sys("arch=c000003e syscall=257", "success=yes exit=3", "a0=ffffff9c a1=7ff a2=401 a3=0"),
           "CWD cwd=\"/home/u/src\"", "PATH item=0 name=\"../data/./log\" nametype=NORMAL"});
  ASSERT_EQ(out.size(), 1u);
  const auto& f = std::get<FileEvent>(out[0].body);
  EXPECT_EQ(f.operation, FileOperation::kWrite);
  EXPECT_EQ(f.path, "/home/u/data/log");
}

TEST_F(NormalizerTest, ReadOnlyOpenIsNotAFileEvent) {
  auto out = Run(
      {Sys("arch=c000003e syscall=257", "success=yes exit=3", "a0=ffffff9c a1=7ff a2=80000 a3=0"),
       "CWD cwd=\"/\"", "PATH item=0 name=\"/etc/passwd\" nametype=NORMAL"});
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(normalizer_->stats().ignored, 1u);
  // O_RDWR counts as a write.
  auto rdwr = Run({Sys("arch=c000003e syscall=2", "success=yes exit=3", "a0=7ff a1=2 a2=0 a3=0"),
                   "CWD cwd=\"/\"", "PATH item=0 name=\"/etc/passwd\" nametype=NORMAL"});
  ASSERT_EQ(rdwr.size(), 1u);
  EXPECT_EQ(std::get<FileEvent>(rdwr[0].body).operation, FileOperation::kWrite);
}

TEST_F(NormalizerTest, Openat2UsesOpenat2RecordOrCreateItem) {
  // With the OPENAT2 record (kernels >= 5.16): oflag=0 (read-only) is nothing.
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=437", "success=yes exit=3",
                       "a0=ffffff9c a1=7ff a2=7fe a3=18"),
                   "OPENAT2 oflag=0 mode=0 resolve=0x0", "CWD cwd=\"/\"",
                   "PATH item=0 name=\"/etc/hosts\" nametype=NORMAL"})
                  .empty());
  auto create = Run(
      {Sys("arch=c000003e syscall=437", "success=yes exit=3", "a0=ffffff9c a1=7ff a2=7fe a3=18"),
       "OPENAT2 oflag=0101 mode=0600 resolve=0x4", "CWD cwd=\"/\"",
       "PATH item=0 name=\"/w/\" nametype=PARENT",
       "PATH item=1 name=\"/w/o2.txt\" nametype=CREATE"});
  ASSERT_EQ(create.size(), 1u);
  EXPECT_EQ(std::get<FileEvent>(create[0].body).operation, FileOperation::kCreate);
  EXPECT_EQ(std::get<FileEvent>(create[0].body).path, "/w/o2.txt");
  // Without it (older kernels) a non-CREATE item is taken as a write.
  auto write = Run(
      {Sys("arch=c000003e syscall=437", "success=yes exit=3", "a0=ffffff9c a1=7ff a2=7fe a3=18"),
       "CWD cwd=\"/\"", "PATH item=0 name=\"/w/o2.txt\" nametype=NORMAL"});
  ASSERT_EQ(write.size(), 1u);
  EXPECT_EQ(std::get<FileEvent>(write[0].body).operation, FileOperation::kWrite);
}

TEST_F(NormalizerTest, CreatIsCreateOrWrite) {
  auto out = Run({Sys("arch=c000003e syscall=85", "success=yes exit=3", "a0=7ff a1=1a4 a2=0 a3=0"),
                  "CWD cwd=\"/w\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
                  "PATH item=1 name=\"c.txt\" nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.operation, FileOperation::kCreate);
  EXPECT_EQ(f.path, "/w/c.txt");
}

TEST_F(NormalizerTest, UnlinkAndUnlinkatAndRmdir) {
  auto unlink = Run({Sys("arch=c000003e syscall=87", "success=yes exit=0", "a0=7ff a1=0 a2=0 a3=0"),
                     "CWD cwd=\"/w\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
                     "PATH item=1 name=\"/w/gone\" nametype=DELETE"});
  EXPECT_EQ(std::get<FileEvent>(unlink.at(0).body).operation, FileOperation::kDelete);
  EXPECT_EQ(std::get<FileEvent>(unlink.at(0).body).path, "/w/gone");

  auto unlinkat_dir =
      Run({Sys("arch=c000003e syscall=263", "success=yes exit=0", "a0=ffffff9c a1=7ff a2=200 a3=0"),
           "CWD cwd=\"/w\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
           "PATH item=1 name=\"/w/d\" nametype=DELETE"});
  EXPECT_EQ(std::get<FileEvent>(unlinkat_dir.at(0).body).operation, FileOperation::kRmdir);

  auto rmdir = Run({Sys("arch=c000003e syscall=84", "success=yes exit=0", "a0=7ff a1=0 a2=0 a3=0"),
                    "CWD cwd=\"/w\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
                    "PATH item=1 name=\"d2\" nametype=DELETE"});
  EXPECT_EQ(std::get<FileEvent>(rmdir.at(0).body).operation, FileOperation::kRmdir);
  EXPECT_EQ(std::get<FileEvent>(rmdir.at(0).body).path, "/w/d2");
}

TEST_F(NormalizerTest, FailedUnlinkNamesTheDirectory) {
  auto out = Run({Sys("arch=c000003e syscall=87", "success=no exit=-2", "a0=7ff a1=0 a2=0 a3=0"),
                  "CWD cwd=\"/w\"", "PATH item=0 name=\"/w/sub/\" nametype=PARENT"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].header.success);
  EXPECT_EQ(std::get<FileEvent>(out[0].body).path, "/w/sub/");
}

TEST_F(NormalizerTest, RenameOldToNewWithRelativeNames) {
  // rename("a.txt", "../b/./c.txt") from /w/x.
  auto out = Run({Sys("arch=c000003e syscall=82", "success=yes exit=0", "a0=7ff a1=7fe a2=0 a3=0"),
                  "CWD cwd=\"/w/x\"", "PATH item=0 name=\"/w/x\" nametype=PARENT",
                  "PATH item=1 name=\"../b/\" nametype=PARENT",
                  "PATH item=2 name=\"a.txt\" nametype=DELETE",
                  "PATH item=3 name=\"../b/./c.txt\" nametype=CREATE"});
  ASSERT_EQ(out.size(), 1u);
  const auto& f = std::get<FileEvent>(out[0].body);
  EXPECT_EQ(f.operation, FileOperation::kRename);
  EXPECT_EQ(f.path, "/w/x/a.txt");
  EXPECT_EQ(f.new_path, "/w/b/c.txt");
}

TEST_F(NormalizerTest, RenameOverExistingTargetKeepsOldName) {
  // renameat2 replacing "new": DELETE items for both names; old is the one
  // that is not the CREATE name.
  auto out = Run({Sys("arch=c000003e syscall=316", "success=yes exit=0",
                      "a0=ffffff9c a1=7ff a2=ffffff9c a3=7fe"),
                  "CWD cwd=\"/\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
                  "PATH item=1 name=\"/w/\" nametype=PARENT",
                  "PATH item=2 name=\"/w/new\" nametype=DELETE",
                  "PATH item=3 name=\"/w/old\" nametype=DELETE",
                  "PATH item=4 name=\"/w/new\" nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.path, "/w/old");
  EXPECT_EQ(f.new_path, "/w/new");
}

TEST_F(NormalizerTest, MkdirChmodChownTruncate) {
  auto mkdir =
      Run({Sys("arch=c000003e syscall=83", "success=yes exit=0", "a0=7ff a1=1ed a2=0 a3=0"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/w/\" nametype=PARENT",
           "PATH item=1 name=\"/w/d\" nametype=CREATE"});
  EXPECT_EQ(std::get<FileEvent>(mkdir.at(0).body).operation, FileOperation::kMkdir);
  EXPECT_EQ(std::get<FileEvent>(mkdir.at(0).body).path, "/w/d");

  auto chmod =
      Run({Sys("arch=c000003e syscall=90", "success=yes exit=0", "a0=7ff a1=1a4 a2=0 a3=0"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(chmod.at(0).body).operation, FileOperation::kChmod);
  EXPECT_EQ(std::get<FileEvent>(chmod.at(0).body).mode, 0644);

  auto fchmodat =
      Run({Sys("arch=c000003e syscall=268", "success=yes exit=0", "a0=ffffff9c a1=7ff a2=180 a3=0"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(fchmodat.at(0).body).mode, 0600);

  auto fchmod =
      Run({Sys("arch=c000003e syscall=91", "success=yes exit=0", "a0=3 a1=1a0 a2=0 a3=0")});
  EXPECT_EQ(std::get<FileEvent>(fchmod.at(0).body).mode, 0640);
  EXPECT_EQ(std::get<FileEvent>(fchmod.at(0).body).path, "");

  auto chown =
      Run({Sys("arch=c000003e syscall=92", "success=yes exit=0", "a0=7ff a1=fffe a2=ffffffff a3=0"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL"});
  const auto& c = std::get<FileEvent>(chown.at(0).body);
  EXPECT_EQ(c.operation, FileOperation::kChown);
  EXPECT_EQ(c.owner_uid, 65534);
  EXPECT_EQ(c.owner_gid, kUnsetId);  // -1: group unchanged

  auto fchownat = Run(
      {Sys("arch=c000003e syscall=260", "success=yes exit=0", "a0=ffffff9c a1=7ff a2=3e8 a3=3e9"),
       "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(fchownat.at(0).body).owner_uid, 1000);
  EXPECT_EQ(std::get<FileEvent>(fchownat.at(0).body).owner_gid, 1001);

  auto truncate =
      Run({Sys("arch=c000003e syscall=76", "success=yes exit=0", "a0=7ff a1=4 a2=0 a3=0"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(truncate.at(0).body).operation, FileOperation::kTruncate);
  EXPECT_EQ(std::get<FileEvent>(truncate.at(0).body).path, "/w/f");
}

TEST_F(NormalizerTest, LinkAndSymlink) {
  // link("/w/f", "/w/hard"): path = the new link, new_path = the existing file.
  auto link = Run({Sys("arch=c000003e syscall=86", "success=yes exit=0", "a0=7ff a1=7fe a2=0 a3=0"),
                   "CWD cwd=\"/\"", "PATH item=0 name=\"/w/f\" nametype=NORMAL",
                   "PATH item=1 name=\"/w/\" nametype=PARENT",
                   "PATH item=2 name=\"/w/hard\" nametype=CREATE"});
  const auto& l = std::get<FileEvent>(link.at(0).body);
  EXPECT_EQ(l.operation, FileOperation::kLink);
  EXPECT_EQ(l.path, "/w/hard");
  EXPECT_EQ(l.new_path, "/w/f");
  // symlink("f", "/w/soft"): the target stays as written (relative to the link).
  auto sym = Run({Sys("arch=c000003e syscall=88", "success=yes exit=0", "a0=7ff a1=7fe a2=0 a3=0"),
                  "CWD cwd=\"/home\"", "PATH item=0 name=\"f\" nametype=UNKNOWN",
                  "PATH item=1 name=\"/w/\" nametype=PARENT",
                  "PATH item=2 name=\"/w/soft\" nametype=CREATE"});
  const auto& s = std::get<FileEvent>(sym.at(0).body);
  EXPECT_EQ(s.path, "/w/soft");
  EXPECT_EQ(s.new_path, "f");
}

// unlinkat(dirfd=7, "secret.txt") as rm -r makes it, run from /: the
// PARENT item's name is the working directory, not the descriptor's. The
// name stays relative, flagged, with the directory's device and inode.
TEST_F(NormalizerTest, DirfdNameStaysRelativeWithItsDirectoryInode) {
  auto out = Run({Sys("arch=c000003e syscall=263", "success=yes exit=0", "a0=7 a1=7ff a2=0 a3=0"),
                  "CWD cwd=\"/\"",
                  "PATH item=0 name=\"/\" inode=1098724 dev=fe:00 mode=040755 nametype=PARENT",
                  "PATH item=1 name=\"secret.txt\" inode=1098725 dev=fe:00 mode=0100644 "
                  "nametype=DELETE"});
  ASSERT_EQ(out.size(), 1u);
  const auto& f = std::get<FileEvent>(out[0].body);
  EXPECT_EQ(f.operation, FileOperation::kDelete);
  EXPECT_EQ(f.path, "secret.txt");
  EXPECT_TRUE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dirfd, 7);
  EXPECT_EQ(f.path_origin.dir_inode, 1098724u);
  EXPECT_EQ(f.path_origin.dir_dev, makedev(0xfe, 0x00));
  EXPECT_EQ(f.path_origin.inode, 1098725u);
  EXPECT_FALSE(f.path_origin.directory);

  // rmdir through a descriptor: the removed directory's own inode too.
  auto rmdir =
      Run({Sys("arch=c000003e syscall=263", "success=yes exit=0", "a0=6 a1=7ff a2=200 a3=0"),
           "CWD cwd=\"/home/u\"",
           "PATH item=0 name=\"/home/u\" inode=23 dev=08:01 mode=040755 nametype=PARENT",
           "PATH item=1 name=\"deeper\" inode=24 dev=08:01 mode=040700 nametype=DELETE"});
  const auto& d = std::get<FileEvent>(rmdir.at(0).body);
  EXPECT_EQ(d.operation, FileOperation::kRmdir);
  EXPECT_EQ(d.path, "deeper");
  EXPECT_TRUE(d.path_origin.unresolved);
  EXPECT_TRUE(d.path_origin.directory);
  EXPECT_EQ(d.path_origin.inode, 24u);
  EXPECT_EQ(d.path_origin.dev, makedev(8, 1));
}

// openat(dirfd=3, "./sub//f", O_CREAT|O_WRONLY): the PARENT is sub (its
// name the part before the last '/'); "." and empty parts go.
TEST_F(NormalizerTest, DirfdNameWithADirectoryPart) {
  auto out =
      Run({Sys("arch=c000003e syscall=257", "success=yes exit=4", "a0=3 a1=7ff a2=41 a3=1a4"),
           "CWD cwd=\"/home\"",
           "PATH item=0 name=\"./sub//\" inode=31 dev=fe:00 mode=040755 nametype=PARENT",
           "PATH item=1 name=\"./sub//f\" inode=32 dev=fe:00 mode=0100644 "
           "nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.operation, FileOperation::kCreate);
  EXPECT_EQ(f.path, "sub/f");
  EXPECT_TRUE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dir_inode, 31u);
}

// An absolute name ignores the descriptor: resolved as usual.
TEST_F(NormalizerTest, DirfdCallWithAnAbsoluteName) {
  auto out = Run({Sys("arch=c000003e syscall=258", "success=yes exit=0", "a0=5 a1=7ff a2=1ed a3=0"),
                  "CWD cwd=\"/\"",
                  "PATH item=0 name=\"/w/\" inode=10 dev=fe:00 mode=040755 nametype=PARENT",
                  "PATH item=1 name=\"/w/d\" inode=11 dev=fe:00 mode=040755 nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.operation, FileOperation::kMkdir);
  EXPECT_EQ(out[0].header.syscall, "mkdirat");
  EXPECT_EQ(f.path, "/w/d");
  EXPECT_FALSE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dir_inode, 10u);
  EXPECT_EQ(f.path_origin.inode, 11u);
  EXPECT_TRUE(f.path_origin.directory);
}

// renameat2(olddirfd=4, "a", newdirfd=5, "b"): each name with its own
// descriptor. The two PARENT items come in an order the log does not say
// (the kernel's compiler's): two plain names in two directories cannot be
// paired with them, so neither gets a directory.
TEST_F(NormalizerTest, RenameatEachNameWithItsOwnDescriptor) {
  auto out =
      Run({Sys("arch=c000003e syscall=316", "success=yes exit=0", "a0=4 a1=7ff a2=5 a3=7fe"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/\" inode=50 dev=fe:00 mode=040755 nametype=PARENT",
           "PATH item=1 name=\"/\" inode=40 dev=fe:00 mode=040755 nametype=PARENT",
           "PATH item=2 name=\"a\" inode=60 dev=fe:00 mode=040755 nametype=DELETE",
           "PATH item=3 name=\"b\" inode=60 dev=fe:00 mode=040755 nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.operation, FileOperation::kRename);
  EXPECT_EQ(f.path, "a");
  EXPECT_EQ(f.new_path, "b");
  EXPECT_EQ(f.path_origin.dirfd, 4);
  EXPECT_EQ(f.new_path_origin.dirfd, 5);
  EXPECT_EQ(f.path_origin.dir_inode, 0u);
  EXPECT_EQ(f.new_path_origin.dir_inode, 0u);
  EXPECT_TRUE(f.path_origin.unresolved && f.new_path_origin.unresolved);
  EXPECT_TRUE(f.new_path_origin.directory);
  EXPECT_EQ(f.new_path_origin.inode, 60u);
  // In one directory there is nothing to pair.
  auto same =
      Run({Sys("arch=c000003e syscall=316", "success=yes exit=0", "a0=4 a1=7ff a2=4 a3=7fe"),
           "CWD cwd=\"/\"", "PATH item=0 name=\"/\" inode=40 dev=fe:00 mode=040755 nametype=PARENT",
           "PATH item=1 name=\"/\" inode=40 dev=fe:00 mode=040755 nametype=PARENT",
           "PATH item=2 name=\"a\" inode=60 dev=fe:00 mode=040755 nametype=DELETE",
           "PATH item=3 name=\"b\" inode=60 dev=fe:00 mode=040755 nametype=CREATE"});
  const auto& s = std::get<FileEvent>(same.at(0).body);
  EXPECT_EQ(s.path_origin.dir_inode, 40u);
  EXPECT_EQ(s.new_path_origin.dir_inode, 40u);
}

// renameat(AT_FDCWD, "/w/x", 5, "y"): the old name's PARENT is named
// "/w/", the new one's is the working directory: paired in either order.
TEST_F(NormalizerTest, RenameParentsPairedByTheirNames) {
  for (bool new_first : {false, true}) {
    std::string old_parent =
        "PATH item=0 name=\"/w/\" inode=40 dev=fe:00 mode=040755 "
        "nametype=PARENT";
    std::string new_parent =
        "PATH item=1 name=\"/\" inode=50 dev=fe:00 mode=040755 "
        "nametype=PARENT";
    if (new_first) std::swap(old_parent, new_parent);
    auto mixed = Run(
        {Sys("arch=c000003e syscall=264", "success=yes exit=0", "a0=ffffff9c a1=7ff a2=5 a3=7fe"),
         "CWD cwd=\"/\"", old_parent, new_parent,
         "PATH item=2 name=\"/w/x\" inode=61 dev=fe:00 mode=0100644 nametype=DELETE",
         "PATH item=3 name=\"y\" inode=61 dev=fe:00 mode=0100644 nametype=CREATE"});
    const auto& m = std::get<FileEvent>(mixed.at(0).body);
    EXPECT_EQ(m.path, "/w/x");
    EXPECT_FALSE(m.path_origin.unresolved);
    EXPECT_EQ(m.path_origin.dir_inode, 40u) << new_first;
    EXPECT_EQ(m.new_path, "y");
    EXPECT_TRUE(m.new_path_origin.unresolved);
    EXPECT_EQ(m.new_path_origin.dir_inode, 50u) << new_first;
  }
}

// utimensat and futimesat set a file's times: through a descriptor the
// name (the only PATH item; no PARENT) stays relative and flagged, never
// joined to the working directory. utimes and utimensat(AT_FDCWD) of a
// relative name are made absolute; utimensat(fd, NULL) (futimens) names
// no file.
TEST_F(NormalizerTest, SetTimesThroughADescriptorStaysRelative) {
  auto at_fd = Run({Sys("arch=c000003e syscall=280", "success=yes exit=0", "a0=6 a1=7ff a2=0 a3=0"),
                    "CWD cwd=\"/w\"",
                    "PATH item=0 name=\"f1\" inode=70 dev=fe:00 mode=0100644 nametype=NORMAL"});
  const auto& f = std::get<FileEvent>(at_fd.at(0).body);
  EXPECT_EQ(f.operation, FileOperation::kSetTimes);
  EXPECT_EQ(Name(f.operation), "set_times");
  EXPECT_EQ(f.path, "f1");
  EXPECT_TRUE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dirfd, 6);
  EXPECT_EQ(f.path_origin.inode, 70u);

  auto futimesat =
      Run({Sys("arch=c000003e syscall=261", "success=yes exit=0", "a0=4 a1=7ff a2=0 a3=0"),
           "CWD cwd=\"/w\"",
           "PATH item=0 name=\"d/g\" inode=71 dev=fe:00 mode=0100644 nametype=NORMAL"});
  const auto& g = std::get<FileEvent>(futimesat.at(0).body);
  EXPECT_EQ(g.operation, FileOperation::kSetTimes);
  EXPECT_EQ(g.path, "d/g");
  EXPECT_TRUE(g.path_origin.unresolved);

  auto at_cwd =
      Run({Sys("arch=c000003e syscall=280", "success=yes exit=0", "a0=ffffff9c a1=7ff a2=0 a3=100"),
           "CWD cwd=\"/w\"",
           "PATH item=0 name=\"f1\" inode=70 dev=fe:00 mode=0100644 nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(at_cwd.at(0).body).path, "/w/f1");
  EXPECT_FALSE(std::get<FileEvent>(at_cwd.at(0).body).path_origin.unresolved);

  auto utimes =
      Run({Sys("arch=c000003e syscall=235", "success=yes exit=0", "a0=7ff a1=0 a2=0 a3=0"),
           "CWD cwd=\"/w\"", "PATH item=0 name=\"../x\" nametype=NORMAL"});
  EXPECT_EQ(std::get<FileEvent>(utimes.at(0).body).operation, FileOperation::kSetTimes);
  EXPECT_EQ(std::get<FileEvent>(utimes.at(0).body).path, "/x");

  auto futimens =
      Run({Sys("arch=c000003e syscall=280", "success=yes exit=0", "a0=3 a1=0 a2=0 a3=0")});
  EXPECT_EQ(std::get<FileEvent>(futimens.at(0).body).operation, FileOperation::kSetTimes);
  EXPECT_EQ(std::get<FileEvent>(futimens.at(0).body).path, "");
  EXPECT_FALSE(std::get<FileEvent>(futimens.at(0).body).path_origin.unresolved);
}

// linkat(olddirfd=4, "src", newdirfd=5, "dst") and symlinkat("t", 6, "ln").
TEST_F(NormalizerTest, LinkatAndSymlinkatDescriptors) {
  auto link = Run(
      {Sys("arch=c000003e syscall=265", "success=yes exit=0", "a0=4 a1=7ff a2=5 a3=7fe"),
       "CWD cwd=\"/\"", "PATH item=0 name=\"src\" inode=70 dev=fe:00 mode=0100644 nametype=NORMAL",
       "PATH item=1 name=\"/\" inode=50 dev=fe:00 mode=040755 nametype=PARENT",
       "PATH item=2 name=\"dst\" inode=70 dev=fe:00 mode=0100644 nametype=CREATE"});
  const auto& l = std::get<FileEvent>(link.at(0).body);
  EXPECT_EQ(l.path, "dst");
  EXPECT_EQ(l.path_origin.dirfd, 5);
  EXPECT_EQ(l.path_origin.dir_inode, 50u);
  EXPECT_EQ(l.new_path, "src");
  EXPECT_EQ(l.new_path_origin.dirfd, 4);
  EXPECT_TRUE(l.new_path_origin.unresolved);
  EXPECT_EQ(l.new_path_origin.dir_inode, 0u);  // not logged
  EXPECT_EQ(l.new_path_origin.inode, 70u);

  auto sym = Run({Sys("arch=c000003e syscall=266", "success=yes exit=0", "a0=7ff a1=6 a2=7fe a3=0"),
                  "CWD cwd=\"/\"", "PATH item=0 name=\"t\" nametype=UNKNOWN",
                  "PATH item=1 name=\"/\" inode=50 dev=fe:00 mode=040755 nametype=PARENT",
                  "PATH item=2 name=\"ln\" inode=71 dev=fe:00 mode=0120777 nametype=CREATE"});
  const auto& s = std::get<FileEvent>(sym.at(0).body);
  EXPECT_EQ(s.path, "ln");
  EXPECT_EQ(s.path_origin.dirfd, 6);
  EXPECT_TRUE(s.path_origin.unresolved);
  EXPECT_EQ(s.new_path, "t");
  EXPECT_EQ(s.new_path_origin, PathOrigin());  // text, never a path to resolve
}

// A failed unlinkat through a descriptor logs only the PARENT, whose name
// cannot be trusted: the directory by its inode, nothing else.
TEST_F(NormalizerTest, FailedDirfdCallNamesOnlyTheDirectoryInode) {
  auto out = Run({Sys("arch=c000003e syscall=263", "success=no exit=-2", "a0=7 a1=7ff a2=0 a3=0"),
                  "CWD cwd=\"/\"",
                  "PATH item=0 name=\"/\" inode=24 dev=fe:00 mode=040755 nametype=PARENT"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.path, "");
  EXPECT_TRUE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dir_inode, 24u);
}

// creat(2) ends in "at" but takes no descriptor: a relative name joins the
// working directory. A ".." after a name may climb out of a symlink: the
// path is the lexical one as before, but its inodes teach nothing.
TEST_F(NormalizerTest, CreatIsNotAnAtCallAndDotDotInodesAreDropped) {
  auto out = Run({Sys("arch=c000003e syscall=85", "success=yes exit=3", "a0=7ff a1=1a4 a2=0 a3=0"),
                  "CWD cwd=\"/w\"",
                  "PATH item=0 name=\"/w\" inode=9 dev=fe:00 mode=040755 nametype=PARENT",
                  "PATH item=1 name=\"c.txt\" inode=10 dev=fe:00 mode=0100644 nametype=CREATE"});
  const auto& f = std::get<FileEvent>(out.at(0).body);
  EXPECT_EQ(f.path, "/w/c.txt");
  EXPECT_FALSE(f.path_origin.unresolved);
  EXPECT_EQ(f.path_origin.dir_inode, 9u);
  auto up = Run({Sys("arch=c000003e syscall=83", "success=yes exit=0", "a0=7ff a1=1ed a2=0 a3=0"),
                 "CWD cwd=\"/w\"",
                 "PATH item=0 name=\"/w/link/../\" inode=5 dev=fe:00 mode=040755 nametype=PARENT",
                 "PATH item=1 name=\"/w/link/../d\" inode=11 dev=fe:00 mode=040755 "
                 "nametype=CREATE"});
  const auto& u = std::get<FileEvent>(up.at(0).body);
  EXPECT_EQ(u.path, "/w/d");
  EXPECT_EQ(u.path_origin.dir_inode, 0u);
  EXPECT_EQ(u.path_origin.inode, 0u);
}

// ---------------------------------------------------------------------------
// Network

TEST_F(NormalizerTest, ConnectIpv4Outbound) {
  auto out = Run({Sys("arch=c000003e syscall=42", "success=yes exit=0", "a0=3 a1=7ff a2=10 a3=0"),
                  "SOCKADDR saddr=02000050C0A801020000000000000000"});
  ASSERT_EQ(out.size(), 1u);
  const auto& n = std::get<NetworkEvent>(out[0].body);
  EXPECT_EQ(n.direction, NetworkDirection::kOutbound);
  EXPECT_EQ(Name(n.family), "ipv4");
  EXPECT_EQ(n.remote_address, "192.168.1.2");
  EXPECT_EQ(n.remote_port, 80);
  EXPECT_EQ(n.protocol, NetworkProtocol::kUnknown);  // audit does not say
  EXPECT_FALSE(n.in_progress);
  EXPECT_EQ(n.fd, 3);
  EXPECT_FALSE(n.local_unresolved);
}

TEST_F(NormalizerTest, ConnectIpv6InProgressAndRefused) {
  auto progress =
      Run({Sys("arch=c000003e syscall=42", "success=no exit=-115", "a0=3 a1=7ff a2=1c a3=0"),
           "SOCKADDR saddr=0A0001BB000000000000000000000000000000000000000100000000"});
  ASSERT_EQ(progress.size(), 1u);
  const auto& p = std::get<NetworkEvent>(progress[0].body);
  EXPECT_TRUE(p.in_progress);
  EXPECT_EQ(Name(p.family), "ipv6");
  EXPECT_EQ(p.remote_address, "::1");
  EXPECT_EQ(p.remote_port, 443);
  EXPECT_FALSE(progress[0].header.success);

  auto refused =
      Run({Sys("arch=c000003e syscall=42", "success=no exit=-111", "a0=3 a1=7ff a2=10 a3=0"),
           "SOCKADDR saddr=0200B2DD7F0000010000000000000000"});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].header.success);
  EXPECT_EQ(refused[0].header.exit, -111);
  EXPECT_FALSE(std::get<NetworkEvent>(refused[0].body).in_progress);
  EXPECT_EQ(std::get<NetworkEvent>(refused[0].body).remote_port, 0xB2DD);
}

TEST_F(NormalizerTest, UnixAndNetlinkSockets) {
  const std::string unix_connect = "SOCKADDR saddr=01002F72756E2F782E736F636B00";
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=42", "success=yes exit=0", "a0=3 a1=7ff a2=e a3=0"),
                   unix_connect})
                  .empty());
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=42", "success=yes exit=0", "a0=3 a1=7ff a2=c a3=0"),
                   "SOCKADDR saddr=100000000000000000000000"})
                  .empty());
  NormalizerOptions keep;
  keep.keep_unix_sockets = true;
  Reset(keep);
  auto out = Run({Sys("arch=c000003e syscall=42", "success=yes exit=0", "a0=3 a1=7ff a2=e a3=0"),
                  unix_connect});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Name(std::get<NetworkEvent>(out[0].body).family), "unix");
  EXPECT_EQ(std::get<NetworkEvent>(out[0].body).remote_address, "/run/x.sock");
}

TEST_F(NormalizerTest, BindThenListenThenAccept) {
  // bind(3, 0.0.0.0:8080) is remembered, not stored.
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=49", "success=yes exit=0", "a0=3 a1=7ff a2=10 a3=0"),
                   "SOCKADDR saddr=02001F90000000000000000000000000"})
                  .empty());
  auto listen =
      Run({Sys("arch=c000003e syscall=50", "success=yes exit=0", "a0=3 a1=80 a2=0 a3=0")});
  ASSERT_EQ(listen.size(), 1u);
  const auto& l = std::get<NetworkEvent>(listen[0].body);
  EXPECT_EQ(l.direction, NetworkDirection::kListen);
  EXPECT_EQ(Name(l.protocol), "tcp");
  EXPECT_EQ(Name(l.family), "ipv4");
  EXPECT_EQ(l.local_address, "0.0.0.0");
  EXPECT_EQ(l.local_port, 8080);
  EXPECT_EQ(l.fd, 3);  // for the live lookup (enrich/socket_ports.h)

  auto accept =
      Run({Sys("arch=c000003e syscall=288", "success=yes exit=4", "a0=3 a1=7ff a2=7fe a3=80000"),
           "SOCKADDR saddr=0200D4310A0000050000000000000000"});
  ASSERT_EQ(accept.size(), 1u);
  const auto& a = std::get<NetworkEvent>(accept[0].body);
  EXPECT_EQ(a.direction, NetworkDirection::kInbound);
  EXPECT_EQ(Name(a.protocol), "tcp");
  EXPECT_EQ(a.remote_address, "10.0.0.5");
  EXPECT_EQ(a.remote_port, 0xD431);
  EXPECT_EQ(a.local_port, 8080);
  EXPECT_EQ(a.fd, 3);  // the listener, not the accepted socket (exit=4)

  // Another process's fd 3 is another socket.
  auto other =
      Run({"SYSCALL arch=c000003e syscall=50 success=yes exit=0 a0=3 a1=80 a2=0 a3=0 "
           "ppid=1 pid=999 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 "
           "fsgid=0 tty=(none) ses=1 comm=\"d\" exe=\"/d\" key=(null)"});
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(std::get<NetworkEvent>(other[0].body).local_port, -1);
  // A failed accept (EAGAIN) accepted nothing.
  EXPECT_TRUE(
      Run({Sys("arch=c000003e syscall=43", "success=no exit=-11", "a0=3 a1=0 a2=0 a3=0")}).empty());
  // accept(3, NULL, NULL): no SOCKADDR; the listener bound above names it.
  auto bare = Run({Sys("arch=c000003e syscall=43", "success=yes exit=5", "a0=3 a1=0 a2=0 a3=0")});
  ASSERT_EQ(bare.size(), 1u);
  const auto& b = std::get<NetworkEvent>(bare[0].body);
  EXPECT_EQ(b.direction, NetworkDirection::kInbound);
  EXPECT_EQ(Name(b.family), "ipv4");
  EXPECT_EQ(b.local_port, 8080);
  EXPECT_EQ(b.remote_port, -1);
  EXPECT_EQ(b.accepted_fd, 5);  // the call's return value, for a live lookup
  EXPECT_EQ(a.accepted_fd, 4);
  // ... and with no listener known (bound before recording, or AF_UNIX)
  // there is nothing to store.
  EXPECT_TRUE(
      Run({Sys("arch=c000003e syscall=43", "success=yes exit=5", "a0=9 a1=0 a2=0 a3=0")}).empty());
}

// Live: an address-less accept on a listener not seen is kept for the
// enrich stage's lookup (enrich/socket_ports.h), its family unknown.
TEST_F(NormalizerTest, AnAddresslessAcceptIsKeptForALiveLookupWhenAsked) {
  NormalizerOptions live;
  live.keep_unaddressed_accepts = true;
  Reset(live);
  auto bare = Run({Sys("arch=c000003e syscall=43", "success=yes exit=7", "a0=9 a1=0 a2=0 a3=0")});
  ASSERT_EQ(bare.size(), 1u);
  const auto& b = std::get<NetworkEvent>(bare[0].body);
  EXPECT_EQ(b.direction, NetworkDirection::kInbound);
  EXPECT_EQ(b.family, AddressFamily::kOther);
  EXPECT_EQ(b.fd, 9);
  EXPECT_EQ(b.accepted_fd, 7);
  EXPECT_EQ(b.local_port, -1);
  EXPECT_EQ(b.remote_port, -1);
  // A failed one accepted nothing, still.
  EXPECT_TRUE(
      Run({Sys("arch=c000003e syscall=43", "success=no exit=-11", "a0=9 a1=0 a2=0 a3=0")}).empty());
}

TEST_F(NormalizerTest, BindToPortZeroLeavesThePortUnknown) {
  // bind(4, [::1]:0): the kernel picks the port and audit never says which.
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=49", "success=yes exit=0", "a0=4 a1=7ff a2=1c a3=0"),
                   "SOCKADDR saddr=0A000000000000000000000000000000000000000000000100000000"})
                  .empty());
  auto listen =
      Run({Sys("arch=c000003e syscall=50", "success=yes exit=0", "a0=4 a1=80 a2=0 a3=0")});
  ASSERT_EQ(listen.size(), 1u);
  const auto& l = std::get<NetworkEvent>(listen[0].body);
  EXPECT_EQ(Name(l.family), "ipv6");
  EXPECT_EQ(l.local_address, "::1");
  EXPECT_EQ(l.local_port, -1);
}

TEST_F(NormalizerTest, SocketTypeGivesConnectProtocol) {
  // socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0) = 5, then connect(5, ...).
  EXPECT_TRUE(
      Run({Sys("arch=c000003e syscall=41", "success=yes exit=5", "a0=2 a1=80002 a2=0 a3=0")})
          .empty());
  auto out = Run({Sys("arch=c000003e syscall=42", "success=yes exit=0", "a0=5 a1=7ff a2=10 a3=0"),
                  "SOCKADDR saddr=02000035080808080000000000000000"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Name(std::get<NetworkEvent>(out[0].body).protocol), "udp");
  EXPECT_EQ(std::get<NetworkEvent>(out[0].body).remote_port, 53);
}

TEST_F(NormalizerTest, SocketStateIsBoundedLru) {
  NormalizerOptions small;
  small.max_tracked_sockets = 1;
  Reset(small);
  Run({Sys("arch=c000003e syscall=49", "success=yes exit=0", "a0=3 a1=7ff a2=10 a3=0"),
       "SOCKADDR saddr=02001F90000000000000000000000000"});
  Run({Sys("arch=c000003e syscall=49", "success=yes exit=0", "a0=4 a1=7ff a2=10 a3=0"),
       "SOCKADDR saddr=02001F91000000000000000000000000"});
  auto evicted =
      Run({Sys("arch=c000003e syscall=50", "success=yes exit=0", "a0=3 a1=80 a2=0 a3=0")});
  EXPECT_EQ(std::get<NetworkEvent>(evicted.at(0).body).local_port, -1);
  auto kept = Run({Sys("arch=c000003e syscall=50", "success=yes exit=0", "a0=4 a1=80 a2=0 a3=0")});
  EXPECT_EQ(std::get<NetworkEvent>(kept.at(0).body).local_port, 8081);
}

TEST_F(NormalizerTest, I386SocketcallConnect) {
  // socketcall(SYS_CONNECT=3, args): the SOCKETCALL record has the real args.
  auto out =
      Run({Sys("arch=40000003 syscall=102", "success=yes exit=0", "a0=3 a1=bf8e1234 a2=0 a3=0"),
           "SOCKETCALL nargs=3 a0=5 a1=bf8e1240 a2=10",
           "SOCKADDR saddr=020001BB7F0000010000000000000000"});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].header.syscall, "connect");
  EXPECT_EQ(out[0].header.arch, "i386");
  EXPECT_EQ(std::get<NetworkEvent>(out[0].body).remote_port, 443);
}

// ---------------------------------------------------------------------------
// Security

struct UserRecordCase {
  const char* type;
  SecurityKind kind;
};

TEST_F(NormalizerTest, EveryUserRecordTypeMapsToItsKind) {
  const UserRecordCase cases[] = {
      {"USER_AUTH", SecurityKind::kAuthentication},
      {"USER_ACCT", SecurityKind::kAccount},
      {"USER_LOGIN", SecurityKind::kLogin},
      {"USER_LOGOUT", SecurityKind::kLogout},
      {"USER_START", SecurityKind::kSessionStart},
      {"USER_END", SecurityKind::kSessionEnd},
      {"CRED_ACQ", SecurityKind::kCredential},
      {"CRED_DISP", SecurityKind::kCredential},
      {"CRED_REFR", SecurityKind::kCredential},
      {"USER_CMD", SecurityKind::kCommand},
      {"USER_CHAUTHTOK", SecurityKind::kAccountChange},
      {"ADD_USER", SecurityKind::kAccountChange},
      {"DEL_USER", SecurityKind::kAccountChange},
      {"ADD_GROUP", SecurityKind::kAccountChange},
      {"DEL_GROUP", SecurityKind::kAccountChange},
      {"USER_MGMT", SecurityKind::kAccountChange},
      {"GRP_MGMT", SecurityKind::kAccountChange},
      {"ANOM_LOGIN_FAILURES", SecurityKind::kLogin},
      {"ANOM_LOGIN_LOCATION", SecurityKind::kLogin},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    auto out = Run({std::string(c.type) +
                    " pid=77 uid=1000 auid=1000 ses=5 subj=unconfined msg='op=PAM:x "
                    "grantors=pam_unix acct=\"alice\" exe=\"/usr/bin/login\" hostname=host1 "
                    "addr=10.0.0.9 terminal=pts/2 res=success'"});
    ASSERT_EQ(out.size(), 1u);
    const auto& s = std::get<SecurityEvent>(out[0].body);
    EXPECT_EQ(s.kind, c.kind);
    EXPECT_EQ(Name(s.record_type), c.type);
    EXPECT_EQ(s.user, "1000");
    EXPECT_EQ(s.target_user, "alice");
    EXPECT_EQ(s.terminal, "pts/2");
    EXPECT_EQ(s.address, "10.0.0.9");
    EXPECT_EQ(s.hostname, "host1");
    EXPECT_EQ(out[0].subject.pid, 77);
    EXPECT_EQ(out[0].subject.auid, 1000);
    EXPECT_EQ(out[0].subject.ses, 5);
    EXPECT_EQ(out[0].subject.exe, "/usr/bin/login");
    EXPECT_EQ(out[0].header.syscall, "");
    const bool anomaly = std::string_view(c.type).starts_with("ANOM_");
    EXPECT_EQ(Name(s.result), anomaly ? "failed" : "success");
    EXPECT_EQ(out[0].header.success, !anomaly);
  }
  EXPECT_EQ(normalizer_->stats().security, std::size(cases));
}

TEST_F(NormalizerTest, PamFailureAndUnsetFields) {
  auto out =
      Run({"USER_AUTH pid=10304 uid=65534 auid=0 ses=11 msg='op=PAM:authentication "
           "grantors=? acct=\"root\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=? "
           "res=failed'"});
  ASSERT_EQ(out.size(), 1u);
  const auto& s = std::get<SecurityEvent>(out[0].body);
  EXPECT_EQ(s.kind, SecurityKind::kAuthentication);
  EXPECT_EQ(Name(s.result), "failed");
  EXPECT_FALSE(out[0].header.success);
  EXPECT_EQ(s.user, "65534");
  EXPECT_EQ(s.target_user, "root");
  EXPECT_EQ(s.address, "");
  EXPECT_EQ(s.hostname, "");
  EXPECT_EQ(s.terminal, "");
  EXPECT_EQ(s.detail, "PAM:authentication");
}

TEST_F(NormalizerTest, UserCmdDecodesCommandAndEnrichedNamesAreUsed) {
  auto out =
      Run({"USER_CMD pid=5 uid=1000 auid=1000 ses=2 msg='cwd=\"/home/a\" cmd=" + Hex("id -u") +
           " exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'\x1dUID=\"alice\" "
           "AUID=\"alice\""});
  ASSERT_EQ(out.size(), 1u);
  const auto& s = std::get<SecurityEvent>(out[0].body);
  EXPECT_EQ(s.kind, SecurityKind::kCommand);
  EXPECT_EQ(s.detail, "id -u");
  EXPECT_EQ(s.user, "alice");
}

TEST_F(NormalizerTest, LoginWithIdInsteadOfAcct) {
  auto out =
      Run({"USER_LOGIN pid=900 uid=0 auid=1000 ses=7 msg='op=login id=1000 "
           "exe=\"/usr/sbin/sshd\" hostname=10.1.1.1 addr=10.1.1.1 terminal=/dev/pts/3 "
           "res=success'"});
  const auto& s = std::get<SecurityEvent>(out.at(0).body);
  EXPECT_EQ(s.kind, SecurityKind::kLogin);
  EXPECT_EQ(s.target_user, "1000");
  EXPECT_EQ(s.detail, "login");
  EXPECT_EQ(s.terminal, "/dev/pts/3");
}

TEST_F(NormalizerTest, SetresuidIsPrivilegeChange) {
  auto out =
      Run({Sys("arch=c000003e syscall=117", "success=yes exit=0", "a0=fffe a1=fffe a2=fffe a3=0")});
  ASSERT_EQ(out.size(), 1u);
  const auto& s = std::get<SecurityEvent>(out[0].body);
  EXPECT_EQ(s.kind, SecurityKind::kPrivilegeChange);
  EXPECT_EQ(Name(s.record_type), "SYSCALL");
  EXPECT_EQ(s.target_user, "65534");
  EXPECT_EQ(s.user, "1000");
  EXPECT_EQ(Name(s.result), "success");
  EXPECT_EQ(s.detail, "setresuid(65534,65534,65534)");
  // setreuid(-1, 0): the effective id is the target.
  auto re =
      Run({Sys("arch=c000003e syscall=113", "success=yes exit=0", "a0=ffffffff a1=0 a2=0 a3=0")});
  EXPECT_EQ(std::get<SecurityEvent>(re.at(0).body).target_user, "0");
  // A refused setuid(0) is still recorded, as failed.
  auto denied =
      Run({Sys("arch=c000003e syscall=105", "success=no exit=-1", "a0=0 a1=0 a2=0 a3=0")});
  EXPECT_EQ(Name(std::get<SecurityEvent>(denied.at(0).body).result), "failed");
  EXPECT_FALSE(denied.at(0).header.success);
}

// ---------------------------------------------------------------------------
// Modules, ignored events, partial events

TEST_F(NormalizerTest, FinitModuleNamedByKernModule) {
  auto out = Run({Sys("arch=c000003e syscall=313", "success=yes exit=0", "a0=3 a1=7ff a2=0 a3=0"),
                  "KERN_MODULE name=\"dummy\""});
  ASSERT_EQ(out.size(), 1u);
  const auto& m = std::get<ModuleEvent>(out[0].body);
  EXPECT_EQ(m.operation, ModuleOperation::kLoad);
  EXPECT_EQ(m.module, "dummy");
  EXPECT_EQ(out[0].header.syscall, "finit_module");

  auto unload =
      Run({Sys("arch=c000003e syscall=176", "success=no exit=-38", "a0=7ff a1=800 a2=0 a3=0")});
  ASSERT_EQ(unload.size(), 1u);
  EXPECT_EQ(std::get<ModuleEvent>(unload[0].body).operation, ModuleOperation::kUnload);
  EXPECT_EQ(std::get<ModuleEvent>(unload[0].body).module, "");
  EXPECT_EQ(normalizer_->stats().module, 2u);
}

TEST_F(NormalizerTest, NothingToStoreIsIgnored) {
  EXPECT_TRUE(Run({"CONFIG_CHANGE auid=0 ses=1 op=add_rule key=\"k\" list=4 res=1"}).empty());
  EXPECT_TRUE(Run({"DAEMON_START op=start ver=3.0.9 format=raw res=success"}).empty());
  EXPECT_TRUE(Run({Sys("arch=c000003e syscall=0", "success=yes exit=10", "a0=3 a1=7ff a2=10 a3=0")})
                  .empty());  // read
  EXPECT_EQ(normalizer_->stats().ignored, 3u);
  EXPECT_EQ(normalizer_->stats().events_in, 3u);
}

TEST_F(NormalizerTest, IncompleteEventMarksPartial) {
  auto event = Event({Sys("arch=c000003e syscall=59", "success=yes exit=0", "a0=1 a1=2 a2=3 a3=4"),
                      "EXECVE argc=2 a0=\"x\""});
  event->set_close_reason(CloseReason::kAged);
  auto out = Run(*event);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].header.partial);
  EXPECT_TRUE(std::get<ProcessStart>(out[0].body).argv_truncated);
  EXPECT_EQ(normalizer_->stats().partial, 1u);

  auto whole =
      Event({Sys("arch=c000003e syscall=231", "success=yes exit=0", "a0=0 a1=0 a2=0 a3=0")});
  EXPECT_FALSE(Run(*whole).at(0).header.partial);
  EXPECT_EQ(normalizer_->stats().partial, 1u);
}

}  // namespace
}  // namespace recorder
