// The BSM trail reader against trails the tests encode themselves
// (bsm_trail_writer.h): every token kind it keeps, compared field by field
// with what was written, 32- and 64-bit variants, and damage: an unknown
// token, a token running past its record, a bad trailer, garbage between
// records, a trail cut short.
#include "bsm/bsm_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bsm_trail_writer.h"
#include "temp_dir.h"
#include "util/clock.h"

namespace recorder::bsm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TrailWriter;

// Owned copies of what the reader handed over (its views die with the trail).
struct Read {
  std::vector<BsmRecord> records;
  std::vector<BsmProblem> problems;
  BsmReadStats stats;
};

Read ReadTrail(const std::string& trail) {
  Read read;
  read.stats = ParseTrail(
      trail, [&](const BsmRecord& record) { read.records.push_back(record); },
      [&](const BsmProblem& problem) { read.problems.push_back(problem); });
  return read;
}

const std::string kIpv6Loopback(15, '\0');  // + "\x01" below

TEST(BsmReader, AnExecRecordFieldByField) {
  TrailWriter w;
  w.FileToken(1'700'000'000, "20231114221320.not_terminated")
      .Begin(23, 1'700'000'000, 250)
      .ExecArgs({"/bin/ls", "-l", "/tmp"})
      .ExecEnv({"HOME=/Users/ann", "PATH=/usr/bin"})
      .Path("/bin/ls")
      .Attr32(0100755, 0, 0, 123456, 16777220)
      .Subject32(501, 501, 20, 501, 20, 4242, 100004, 0, TrailWriter::Ipv4(10, 0, 0, 5))
      .Return32(0, 0)
      .End();
  Read read = ReadTrail(w.trail());
  EXPECT_TRUE(read.problems.empty()) << read.problems[0].reason;
  ASSERT_EQ(read.records.size(), 1u);
  const BsmRecord& r = read.records[0];
  EXPECT_EQ(r.event_type, 23);
  EXPECT_EQ(EventName(r.event_type), "AUE_EXECVE");
  EXPECT_EQ(r.version, 11);
  EXPECT_EQ(r.time_ms, 1'700'000'000'250);
  EXPECT_THAT(r.exec_args, ElementsAre("/bin/ls", "-l", "/tmp"));
  EXPECT_EQ(r.exec_env_count, 2u);
  EXPECT_THAT(r.paths, ElementsAre("/bin/ls"));
  ASSERT_TRUE(r.attr.present);
  EXPECT_EQ(r.attr.mode, 0100755u);
  EXPECT_EQ(r.attr.inode, 123456u);
  EXPECT_EQ(r.attr.device, 16777220u);
  ASSERT_TRUE(r.subject.present);
  EXPECT_EQ(r.subject.auid, 501u);
  EXPECT_EQ(r.subject.egid, 20u);
  EXPECT_EQ(r.subject.pid, 4242u);
  EXPECT_EQ(r.subject.sid, 100004u);
  EXPECT_EQ(r.subject.terminal.ToString(), "10.0.0.5");
  EXPECT_TRUE(r.has_return);
  EXPECT_TRUE(r.succeeded());
  EXPECT_FALSE(r.incomplete);
  EXPECT_EQ(r.offset, w.trail().find('\x14'));
  EXPECT_EQ(read.stats.records, 1u);

  const std::string json = RecordJson(r);
  EXPECT_THAT(json, HasSubstr(R"("event_name":"AUE_EXECVE")"));
  EXPECT_THAT(json, HasSubstr(R"("time":"2023-11-14T22:13:20.250Z")"));
  EXPECT_THAT(json, HasSubstr(R"("exec_args":["/bin/ls","-l","/tmp"])"));
  EXPECT_THAT(json, HasSubstr(R"("pid":4242)"));
}

TEST(BsmReader, SixtyFourBitVariantsAndExtendedAddresses) {
  const std::string ipv6 = kIpv6Loopback + "\x01";
  TrailWriter w;
  w.Begin(32, 1'700'000'100, 7, /*wide=*/true)
      .Subject64Ex(501, 0, 0, 501, 20, 77, 9, 0x1122334455667788ull, ipv6)
      .SockInet128(30, 443, ipv6)
      .Return64(0, 0)
      .End()
      .Begin(1, 1'700'000'101, 0)
      .Subject32(501, 501, 20, 501, 20, 77, 9, 0, 0)
      .Exit(3, 0)
      .Text("bye")
      .Zonename("global")
      .Attr64(0100644, 501, 20, 99, 0x0000000100000002ull)
      .End();
  Read read = ReadTrail(w.trail());
  ASSERT_TRUE(read.problems.empty()) << read.problems[0].reason;
  ASSERT_EQ(read.records.size(), 2u);
  const BsmRecord& connect = read.records[0];
  EXPECT_EQ(EventName(connect.event_type), "AUE_CONNECT");
  EXPECT_EQ(connect.time_ms, 1'700'000'100'007);
  EXPECT_EQ(connect.subject.terminal_port, 0x1122334455667788ull);
  EXPECT_EQ(connect.subject.terminal.ToString(), "::1");
  EXPECT_EQ(connect.socket.remote.ToString(), "::1");
  EXPECT_EQ(connect.socket.remote_port, 443);
  EXPECT_EQ(connect.socket.family, 30);  // AF_INET6 on macOS
  const BsmRecord& exit = read.records[1];
  EXPECT_EQ(EventName(exit.event_type), "AUE_EXIT");
  EXPECT_TRUE(exit.has_exit);
  EXPECT_EQ(exit.exit_status, 3);
  EXPECT_THAT(exit.texts, ElementsAre("bye"));
  EXPECT_EQ(exit.zonename, "global");
  EXPECT_EQ(exit.attr.device, 0x0000000100000002ull);
}

// Found by the fuzzer: a 64-bit header's seconds can overflow milliseconds.
TEST(BsmReader, ATimeBeyondTheYear9999IsUnknownNotAnOverflow) {
  TrailWriter w;
  w.Begin(23, 0, 0, /*wide=*/true).Path("/bin/x").End();
  std::string trail = w.trail();
  // The 64-bit seconds field starts after id, size, version, event, modifier.
  for (size_t i = 10; i < 18; ++i) trail[i] = '\x7f';
  Read read = ReadTrail(trail);
  ASSERT_EQ(read.records.size(), 1u);
  EXPECT_EQ(read.records[0].time_ms, 0);
  EXPECT_EQ(IsoUtcMs(int64_t{1} << 62), std::to_string(int64_t{1} << 62));
  EXPECT_EQ(IsoUtcMs(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(IsoUtcMs(250'808'103'171'000), "9917-10-17T13:32:51.000Z");
}

TEST(BsmReader, SocketsUnixPathsFailuresAndArguments) {
  TrailWriter w;
  w.Begin(33, 1'700'000'200, 0)
      .Subject32(0, 0, 0, 0, 0, 88, 1, 0, 0)
      .SocketEx32(2, 1, 22, TrailWriter::Ipv4(127, 0, 0, 1), 50123, TrailWriter::Ipv4(127, 0, 0, 2))
      .Return32(0, 5)
      .End()
      .Begin(32, 1'700'000'201, 0)
      .Subject32(501, 501, 20, 501, 20, 90, 1, 0, 0)
      .Arg32(1, 7, "fd")
      .SockUnix(1, "/var/run/mDNSResponder")
      .Return32(2, 0xffffffff)
      .End()
      .Begin(6, 1'700'000'202, 0)
      .Subject32(501, 501, 20, 501, 20, 91, 1, 0, 0)
      .Path("/tmp/gone")
      .Opaque(std::string("\x00\x01\x02", 3))
      .Return32(0, 0)
      .End();
  Read read = ReadTrail(w.trail());
  ASSERT_TRUE(read.problems.empty()) << read.problems[0].reason;
  ASSERT_EQ(read.records.size(), 3u);
  const BsmSocket& accepted = read.records[0].socket;
  EXPECT_EQ(accepted.local.ToString(), "127.0.0.1");
  EXPECT_EQ(accepted.local_port, 22);
  EXPECT_EQ(accepted.remote.ToString(), "127.0.0.2");
  EXPECT_EQ(accepted.remote_port, 50123);
  EXPECT_EQ(read.records[0].return_value, 5);

  const BsmRecord& refused = read.records[1];
  EXPECT_EQ(refused.socket.unix_path, "/var/run/mDNSResponder");
  EXPECT_FALSE(refused.succeeded());
  EXPECT_EQ(refused.return_error, 2);
  EXPECT_EQ(refused.return_value, -1);
  ASSERT_EQ(refused.args.size(), 1u);
  EXPECT_EQ(refused.args[0].number, 1);
  EXPECT_EQ(refused.args[0].value, 7u);
  EXPECT_EQ(refused.args[0].text, "fd");

  EXPECT_EQ(EventName(read.records[2].event_type), "AUE_UNLINK");
  EXPECT_THAT(read.records[2].paths, ElementsAre("/tmp/gone"));
  EXPECT_EQ(read.records[2].other_tokens, 1u);  // the opaque token, skipped by its length
}

TEST(BsmReader, AnUnknownTokenCutsItsRecordShortAndTheNextIsRead) {
  TrailWriter w;
  w.Begin(23, 1'700'000'300, 0)
      .Path("/bin/first")
      .Raw("\xf0\x01\x02\x03")  // no such token
      .Path("/never/read")
      .End()
      .Begin(23, 1'700'000'301, 0)
      .Path("/bin/second")
      .End();
  Read read = ReadTrail(w.trail());
  ASSERT_EQ(read.records.size(), 2u);
  EXPECT_TRUE(read.records[0].incomplete);
  EXPECT_THAT(read.records[0].paths, ElementsAre("/bin/first"));
  EXPECT_FALSE(read.records[1].incomplete);
  EXPECT_THAT(read.records[1].paths, ElementsAre("/bin/second"));
  ASSERT_EQ(read.problems.size(), 1u);
  EXPECT_THAT(read.problems[0].reason, HasSubstr("unknown token 0xf0"));
  EXPECT_EQ(read.stats.incomplete, 1u);
}

TEST(BsmReader, ATokenRunningPastItsRecordIsReportedNotReadBeyond) {
  TrailWriter w;
  // A path token whose count claims more bytes than the record holds.
  w.Begin(23, 1'700'000'400, 0).Raw(std::string("\x23\x10\x00/short", 9)).End();
  w.Begin(23, 1'700'000'401, 0).Path("/bin/next").End();
  Read read = ReadTrail(w.trail());
  ASSERT_EQ(read.records.size(), 2u);
  EXPECT_TRUE(read.records[0].incomplete);
  EXPECT_TRUE(read.records[0].paths.empty() || read.records[0].paths[0].size() < 0x1000);
  ASSERT_FALSE(read.problems.empty());
  EXPECT_THAT(read.problems[0].reason, HasSubstr("runs past the end of the record"));
  EXPECT_THAT(read.records[1].paths, ElementsAre("/bin/next"));
}

TEST(BsmReader, DamageBetweenRecordsIsSkippedToTheNextWholeRecord) {
  TrailWriter w;
  w.Begin(23, 1'700'000'500, 0).Path("/bin/a").End();
  std::string trail = w.trail();
  const size_t first_end = trail.size();
  trail += std::string("garbage\x14\x00\x00\x00\x40 more garbage", 26);
  TrailWriter second;
  second.Begin(23, 1'700'000'501, 0).Path("/bin/b").End();
  trail += second.trail();
  // A record whose trailer does not repeat its size.
  TrailWriter bad;
  bad.Begin(23, 1'700'000'502, 0).Path("/bin/c").End();
  std::string damaged = bad.trail();
  damaged[damaged.size() - 1] ^= 0x01;
  trail += damaged;
  trail += second.trail();
  // And a trail cut in the middle of its last record.
  trail += second.trail().substr(0, 20);

  Read read = ReadTrail(trail);
  ASSERT_EQ(read.records.size(), 3u);
  EXPECT_THAT(read.records[0].paths, ElementsAre("/bin/a"));
  EXPECT_THAT(read.records[1].paths, ElementsAre("/bin/b"));
  EXPECT_THAT(read.records[2].paths, ElementsAre("/bin/b"));
  ASSERT_EQ(read.problems.size(), 3u);
  EXPECT_EQ(read.problems[0].offset, first_end);
  EXPECT_THAT(read.problems[0].reason, HasSubstr("no whole record here"));
  EXPECT_THAT(read.problems[2].reason, HasSubstr("no whole record in the last 20 bytes"));
  EXPECT_GT(read.stats.skipped_bytes, 20u);
}

TEST(BsmReader, KnowsATrailByItsContent) {
  TrailWriter w;
  w.Begin(23, 1'700'000'600, 0).Path("/bin/a").End();
  EXPECT_TRUE(LooksLikeBsm(w.trail()));
  TrailWriter with_file;
  with_file.FileToken(1, "x").Begin(23, 1, 0).End();
  EXPECT_TRUE(LooksLikeBsm(with_file.trail()));
  EXPECT_FALSE(LooksLikeBsm("type=SYSCALL msg=audit(1.2:3): arch=c000003e"));
  EXPECT_FALSE(
      LooksLikeBsm(std::string("\x7f"
                               "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
                               16)));
  EXPECT_FALSE(LooksLikeBsm(std::string("\x14\x00\x00\x00\x40\x63xxxxxxxx", 14)));  // version 99

  TempDir dir;
  const std::string path = dir.File("trail");
  {
    FILE* out = std::fopen(path.c_str(), "wb");
    ASSERT_NE(out, nullptr);
    std::fwrite(w.trail().data(), 1, w.trail().size(), out);
    std::fclose(out);
  }
  bool is_bsm = false;
  Result<std::string> bytes = ReadIfBsm(path, &is_bsm);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_TRUE(is_bsm);
  EXPECT_EQ(*bytes, w.trail());
  const std::string text = dir.File("audit.log");
  {
    FILE* out = std::fopen(text.c_str(), "wb");
    std::fputs("type=DAEMON_START msg=audit(1.2:3): op=start\n", out);
    std::fclose(out);
  }
  bytes = ReadIfBsm(text, &is_bsm);
  EXPECT_TRUE(bytes.ok());
  EXPECT_FALSE(is_bsm);
}

}  // namespace
}  // namespace recorder::bsm
