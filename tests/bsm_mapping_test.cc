// BSM records -> TypedEvents: each mapped event kind with the values the
// record carried, ancestry from fork records, and what is left out.
#include "bsm/bsm_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bsm_sample_trail.h"
#include "bsm_trail_writer.h"

namespace recorder::bsm {
namespace {

using testing::Ann;
using ::testing::ElementsAre;
using testing::kAnn;
using testing::TrailWriter;

std::vector<TypedEvent> MapTrail(const std::string& trail, BsmMapper* mapper) {
  std::vector<TypedEvent> events;
  ParseTrail(
      trail, [&](const BsmRecord& record) { mapper->Map(record, &events); },
      [](const BsmProblem& problem) { ADD_FAILURE() << problem.reason; });
  return events;
}

TEST(BsmMapping, ForkExecFilesNetworkExitWithAncestry) {
  TrailWriter w;
  Ann(w.Begin(2, 1'700'000'000, 0).Arg32(0, 4300, "child PID"), 4242).Return32(0, 4300).End();
  testing::CurlExec(w, 1'700'000'001, 10);
  Ann(w.Begin(77, 1'700'000'002, 0).Path("/Users/ann/out.txt"), 4300).Return32(0, 3).End();
  Ann(w.Begin(72, 1'700'000'003, 0).Path("/etc/hosts"), 4300).Return32(0, 4).End();
  Ann(w.Begin(42, 1'700'000'004, 0).Path("/Users/ann/a").Path("/Users/ann/b"), 4300)
      .Return32(0, 0)
      .End();
  Ann(w.Begin(32, 1'700'000'005, 0).SockInet32(2, 80, TrailWriter::Ipv4(127, 0, 0, 1)), 4300)
      .Return32(0, 0)
      .End();
  Ann(w.Begin(1, 1'700'000'006, 0), 4300).Exit(7, 0).Return32(0, 0).End();

  BsmMapper mapper("mac-ann");
  std::vector<TypedEvent> events = MapTrail(w.trail(), &mapper);
  // fork: remembered, not stored; read-only open: not stored.
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(mapper.stats().forks, 1u);
  EXPECT_EQ(mapper.stats().unmapped, 2u);

  const TypedEvent& exec = events[0];
  ASSERT_TRUE(std::holds_alternative<ProcessStart>(exec.body));
  EXPECT_EQ(exec.header.node, "mac-ann");
  EXPECT_EQ(exec.header.time_ms, 1'700'000'001'010);
  EXPECT_EQ(exec.header.syscall, "execve");
  EXPECT_EQ(exec.subject.pid, 4300);
  EXPECT_EQ(exec.subject.ppid, 4242);
  EXPECT_EQ(exec.subject.exe, "/usr/bin/curl");
  EXPECT_EQ(exec.subject.comm, "curl");
  EXPECT_EQ(exec.subject.auid, kAnn);
  EXPECT_EQ(exec.subject.ses, 100004);
  EXPECT_THAT(std::get<ProcessStart>(exec.body).argv,
              ElementsAre("curl", "-s", "http://127.0.0.1/"));

  const auto& created = std::get<FileEvent>(events[1].body);
  EXPECT_EQ(created.operation, FileOperation::kCreate);  // AUE_OPEN_WC
  EXPECT_EQ(created.path, "/Users/ann/out.txt");
  EXPECT_EQ(events[1].subject.exe, "/usr/bin/curl");
  EXPECT_EQ(events[1].subject.ppid, 4242);

  const auto& renamed = std::get<FileEvent>(events[2].body);
  EXPECT_EQ(renamed.operation, FileOperation::kRename);
  EXPECT_EQ(renamed.path, "/Users/ann/a");
  EXPECT_EQ(renamed.new_path, "/Users/ann/b");

  const auto& connect = std::get<NetworkEvent>(events[3].body);
  EXPECT_EQ(connect.direction, NetworkDirection::kOutbound);
  EXPECT_EQ(connect.family, AddressFamily::kInet);
  EXPECT_EQ(connect.remote_address, "127.0.0.1");
  EXPECT_EQ(connect.remote_port, 80);

  ASSERT_TRUE(std::holds_alternative<ProcessEnd>(events[4].body));
  EXPECT_EQ(std::get<ProcessEnd>(events[4].body).exit_code, 7);
}

TEST(BsmMapping, AFailedExecIsWhatWasAttemptedAndASpawnStartsTheChild) {
  TrailWriter w;
  Ann(w.Begin(23, 1'700'000'100, 0).Path("/usr/local/bin/nosuch"), 600)
      .Return32(2, 0xffffffff)
      .End();
  Ann(w.Begin(43190, 1'700'000'101, 0)
          .Arg32(0, 777, "child PID")
          .ExecArgs({"/bin/sh", "-c", "id"})
          .Path("/bin/sh"),
      600)
      .Return32(0, 0)
      .End();
  BsmMapper mapper("");
  std::vector<TypedEvent> events = MapTrail(w.trail(), &mapper);
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<ExecFailure>(events[0].body));
  EXPECT_EQ(std::get<ExecFailure>(events[0].body).path, "/usr/local/bin/nosuch");
  EXPECT_EQ(std::get<ExecFailure>(events[0].body).error, 2);
  EXPECT_FALSE(events[0].header.success);
  ASSERT_TRUE(std::holds_alternative<ProcessStart>(events[1].body));
  EXPECT_EQ(events[1].subject.pid, 777);
  EXPECT_EQ(events[1].subject.ppid, 600);
  EXPECT_EQ(events[1].subject.exe, "/bin/sh");
}

TEST(BsmMapping, LoginsAcceptsAndSocketTypes) {
  TrailWriter w;
  w.Begin(32800, 1'700'000'200, 0)
      .Subject32(kAnn, 0, 0, 0, 0, 900, 100005, 0, TrailWriter::Ipv4(192, 0, 2, 7))
      .Text("successful login ann")
      .Return32(0, 0)
      .End()
      .Begin(32800, 1'700'000'201, 0)
      .Subject32(0xffffffff, 0, 0, 0, 0, 901, 100006, 0, TrailWriter::Ipv4(192, 0, 2, 8))
      .Text("invalid user root")
      .Return32(1, 0xffffffff)
      .End();
  Ann(w.Begin(33, 1'700'000'202, 0)
          .SocketEx32(2, 1, 22, TrailWriter::Ipv4(127, 0, 0, 1), 50123,
                      TrailWriter::Ipv4(127, 0, 0, 2)),
      88)
      .Return32(0, 5)
      .End();
  BsmMapper mapper("mac");
  std::vector<TypedEvent> events = MapTrail(w.trail(), &mapper);
  ASSERT_EQ(events.size(), 3u);
  const auto& login = std::get<SecurityEvent>(events[0].body);
  EXPECT_EQ(login.kind, SecurityKind::kLogin);
  EXPECT_EQ(login.result, SecurityResult::kSuccess);
  EXPECT_EQ(login.user, "501");
  EXPECT_EQ(login.address, "192.0.2.7");
  EXPECT_EQ(login.detail, "successful login ann");
  const auto& refused = std::get<SecurityEvent>(events[1].body);
  EXPECT_EQ(refused.result, SecurityResult::kFailed);
  EXPECT_EQ(refused.user, "0");  // no audit user yet: the effective one
  const auto& accepted = std::get<NetworkEvent>(events[2].body);
  EXPECT_EQ(accepted.direction, NetworkDirection::kInbound);
  EXPECT_EQ(accepted.protocol, NetworkProtocol::kTcp);
  EXPECT_EQ(accepted.local_port, 22);
  EXPECT_EQ(accepted.remote_address, "127.0.0.2");
  EXPECT_EQ(accepted.remote_port, 50123);
}

}  // namespace
}  // namespace recorder::bsm
