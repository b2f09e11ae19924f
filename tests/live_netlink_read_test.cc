// NetlinkSource against the real kernel: records queued in the socket are
// read a batch per syscall (recvmmsg), every one of them, and the read
// says when it left the socket empty (the event loop's pacing relies on
// it, daemon/read_pacer.h).
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "live_support.h"
#include "source/netlink_source.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-readtest";
// AUDIT_TRUSTED_APP (libaudit.h; not in linux/audit.h): free text from a
// trusted program.
constexpr uint16_t kTrustedAppMessage = 1121;

// Sends `count` user messages carrying `marker`; the kernel turns each
// into a TRUSTED_APP record for the audit daemon (a type in the user
// range: the source takes types below it for replies). False on a send
// failure.
bool SendUserMessages(int count, const std::string& marker) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) return false;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  bool ok = true;
  for (int i = 0; i < count && ok; ++i) {
    const std::string text = marker + " n=" + std::to_string(i);
    char message[NLMSG_SPACE(256)] = {};
    auto* header = reinterpret_cast<nlmsghdr*>(message);
    header->nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(text.size() + 1));
    header->nlmsg_type = kTrustedAppMessage;
    header->nlmsg_flags = NLM_F_REQUEST;
    header->nlmsg_seq = static_cast<uint32_t>(i + 1);
    std::memcpy(NLMSG_DATA(header), text.c_str(), text.size() + 1);
    ok = sendto(fd, message, header->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                sizeof(kernel)) >= 0;
  }
  close(fd);
  return ok;
}

TEST(LiveNetlinkRead, QueuedRecordsAreReadInBatchesUntilTheSocketIsEmpty) {
  std::string skip = LiveSkipReason(kTestKey, /*needs_free_pid=*/true);
  if (!skip.empty()) GTEST_SKIP() << skip;
  AuditStateGuard guard(kTestKey);
  Result<std::unique_ptr<NetlinkSource>> opened = NetlinkSource::Open(NetlinkOptions{});
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<NetlinkSource> source = std::move(*opened);
  EXPECT_GE(source->receive_buffer_bytes(), 1 << 20) << "the 16 MiB buffer was not granted";

  constexpr int kMessages = 300;
  const std::string marker = "recorder-readtest-" + std::to_string(getpid());
  ASSERT_TRUE(SendUserMessages(kMessages, marker)) << std::strerror(errno);
  // All of them queued before the first read: each read then takes many.
  int ours = 0;
  auto count = [&](int, std::string_view body) {
    if (body.find(marker) != std::string_view::npos) ++ours;
    return Status::Ok();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  while (ours < kMessages && std::chrono::steady_clock::now() < deadline) {
    pollfd fd{source->fd(), POLLIN, 0};
    if (poll(&fd, 1, 100) <= 0) continue;
    Status read = source->ReadPending(count);
    ASSERT_TRUE(read.ok()) << read.message();
    EXPECT_TRUE(source->drained()) << "a read below max_messages ends with the socket empty";
  }
  EXPECT_EQ(ours, kMessages);
  const NetlinkStats& stats = source->stats();
  EXPECT_GE(stats.messages, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(stats.truncated, 0u);
  EXPECT_EQ(stats.overruns, 0u);
  // One syscall per record would be kMessages calls or more.
  EXPECT_LT(stats.receive_calls * 4, stats.messages)
      << stats.receive_calls << " receive calls for " << stats.messages << " records";

  // A read stopped by max_messages leaves the socket unread: not drained.
  ASSERT_TRUE(SendUserMessages(50, marker + "-limit"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(source->ReadPending(count, /*max_messages=*/10).ok());
  EXPECT_FALSE(source->drained());
  EXPECT_TRUE(source->Close().ok());
}

}  // namespace
}  // namespace recorder
