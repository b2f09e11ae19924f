// `recorder status` and `recorder stop` from a user who may not ask the
// running recorder (its control socket is in a root-only directory): they
// say permission was denied and who may ask, not "stopped"/"not running".
// Runs the recorder binary as nobody (runuser); skips when not root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "daemon/control_channel.h"
#include "run_command.h"
#include "temp_dir.h"

namespace recorder {
namespace {

class StatusAsAnotherUser : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run the recorder as nobody";
    // A recorder's control socket, listening in a 0700 directory of root's.
    auto server = daemon::ControlServer::Listen(dir_.File("state/recorder.sock"));
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(*server);
  }
  CommandResult AsNobody(const std::string& command) {
    return RunCommand("cd / && runuser -u nobody -- " + ShellQuote(RECORDER_BINARY) + " " +
                      command + " --state-dir " + ShellQuote(dir_.File("state")));
  }

  TempDir dir_;
  std::unique_ptr<daemon::ControlServer> server_;
};

TEST_F(StatusAsAnotherUser, StatusSaysPermissionDeniedAndWhoMayAsk) {
  CommandResult r = AsNobody("status");
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("permission denied"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("only root may ask it"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("stopped"), std::string::npos) << r.output;
}

TEST_F(StatusAsAnotherUser, StopSaysPermissionDeniedAndDoesNotClaimItIsNotRunning) {
  CommandResult r = AsNobody("stop");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("permission denied"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sudo recorder stop"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not running"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace recorder
