// Local addresses and ports the kernel's socket tables give (enrich/
// socket_ports.h), live: `recorder run --source unicast` while Python
// servers and clients talk over loopback.
//
//  - a server started before the recorder (its bind and listen never
//    seen): its accepts carry its address and port;
//  - a server started after, bound to port 0: its listen and accepts
//    carry the port the kernel picked;
//  - a client's connect carries the source port the client itself saw
//    (getsockname);
//  - a client whose socket is gone before the recorder looks (the
//    recorder is stopped meanwhile): no local port, counted in
//    runs.unresolved_ports;
//  - accept(fd, NULL, NULL) (no address in the audit record at all) on a
//    server started before the recorder: its listener's address and
//    port, and the client's address and port from the accepted socket;
//    or, when that socket is gone before the lookup, no remote address
//    (marked unknown, counted), never a guess.
//
// Needs root and kernel audit; skips (saying why) otherwise. Every process
// started here is stopped by its pid when the test ends, however it ends.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "live_support.h"

namespace recorder {
namespace {

using namespace live_test;

constexpr char kTestKey[] = "recorder-portstest";
constexpr char kPython[] = "/usr/bin/python3";

// serve OUT: listens on 127.0.0.1, port 0; writes the port to OUT; waits
// for a connection in select() and accepts and closes it, forever. (Like
// sshd and nginx, it does not sit in accept(): the kernel gives no
// address to a syscall that began before any audit rule existed.) connect OUT PORT HOLD: connects
// to 127.0.0.1:PORT, writes its own (source) port to OUT, holds the socket HOLD seconds.
constexpr char kScript[] = R"py(
import os, select, socket, sys, time
mode, out = sys.argv[1], sys.argv[2]
def say(text):
    with open(out + ".tmp", "w") as f:
        f.write(text)
    os.rename(out + ".tmp", out)
def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    say(str(s.getsockname()[1]))
    return s
if mode == "serve":
    s = listener()
    while True:
        select.select([s], [], [])
        c, _ = s.accept()
        c.close()
elif mode == "bare":
    # accept(fd, NULL, NULL) through libc: no SOCKADDR record. The client's
    # first byte says whether to hold the accepted socket ("h") or close it.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    s = listener()
    while True:
        select.select([s], [], [])
        fd = libc.accept(s.fileno(), None, None)
        if os.read(fd, 1) == b"h":
            time.sleep(3)
        os.close(fd)
elif mode == "tell":
    # connect, send MODE, write the source port, wait for the server's close.
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", int(sys.argv[3])))
    c.sendall(sys.argv[4].encode())
    say(str(c.getsockname()[1]))
    c.recv(1)
    c.close()
else:
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", int(sys.argv[3])))
    say(str(c.getsockname()[1]))
    time.sleep(float(sys.argv[4]))
    c.close()
)py";

class LivePorts : public UnicastRecorderTest {
 protected:
  LivePorts() : UnicastRecorderTest(kTestKey) {}

  void SetUp() override {
    UnicastRecorderTest::SetUp();
    if (IsSkipped()) return;
    std::ofstream(Script()) << kScript;
  }
  std::string Script() const { return temp_.path() + "/ports.py"; }

  // Starts the script (stopped by the guard at the end) and waits for the
  // port it writes: {pid, port}; port 0 when it wrote none in time.
  std::pair<pid_t, int> Start(const std::string& name, std::vector<std::string> args) {
    const std::string out = temp_.path() + "/" + name + ".port";
    std::vector<std::string> argv = {kPython, Script()};
    argv.push_back(args.at(0));
    argv.push_back(out);
    argv.insert(argv.end(), args.begin() + 1, args.end());
    const pid_t pid = Spawn(argv, temp_.path() + "/" + name + ".log");
    guard_->Adopt(pid);
    int port = 0;
    WaitFor(
        [&] {
          std::ifstream in(out);
          return static_cast<bool>(in >> port);
        },
        10s);
    return {pid, port};
  }
  std::string Log(const std::string& name) const {
    return RunCapture("cat " + temp_.path() + "/" + name + ".log");
  }
  // Rows of `sql` with ` AND pid = <pid>` appended.
  std::vector<std::vector<std::string>> RowsOf(Db& db, const std::string& sql, pid_t pid) {
    return db.Await(sql + " AND pid = " + std::to_string(pid));
  }
};

using Rows = std::vector<std::vector<std::string>>;

TEST_F(LivePorts, LocalAddressesAndPortsComeFromTheKernel) {
  // Started before the recorder: no event ever names its address.
  auto [early, early_port] = Start("early", {"serve"});
  ASSERT_NE(early_port, 0) << Log("early");

  pid_t recorder = StartRecorder();
  // Bound to port 0 while recorded: audit says port 0.
  auto [late, late_port] = Start("late", {"serve"});
  ASSERT_NE(late_port, 0) << Log("late");

  // Clients hold their sockets long enough for the lookup.
  auto [client1, source1] = Start("client1", {"connect", std::to_string(early_port), "3"});
  ASSERT_NE(source1, 0) << Log("client1");
  auto [client2, source2] = Start("client2", {"connect", std::to_string(late_port), "3"});
  ASSERT_NE(source2, 0) << Log("client2");

  // Gone before the lookup: the recorder is stopped while the client
  // connects, closes and exits (for a second at most: the kernel holds the
  // events meanwhile).
  ASSERT_EQ(kill(recorder, SIGSTOP), 0);
  auto [client3, source3] = Start("client3", {"connect", std::to_string(early_port), "0"});
  const int client3_exit = WaitExit(client3, 5s);
  kill(recorder, SIGCONT);
  if (client3_exit >= 0) guard_->Forget(client3);  // reaped: its pid is no longer ours
  ASSERT_NE(source3, 0) << Log("client3");
  ASSERT_EQ(client3_exit, 0) << Log("client3");

  Db db(DbPath());
  const std::string local = "SELECT local_address, local_port FROM network_events WHERE ";
  const std::string loopback = "127.0.0.1";
  // The early server's accepts: its address and port, though it was
  // bound before the recorder started; also the one from client3.
  EXPECT_EQ(RowsOf(db, local + "direction = 'inbound' AND remote_port = " + std::to_string(source1),
                   early),
            (Rows{{loopback, std::to_string(early_port)}}))
      << ReadLog();
  EXPECT_EQ(RowsOf(db, local + "direction = 'inbound' AND remote_port = " + std::to_string(source3),
                   early),
            (Rows{{loopback, std::to_string(early_port)}}));
  // The late server's listen and accept: the port the kernel picked.
  EXPECT_EQ(RowsOf(db, local + "direction = 'listen'", late),
            (Rows{{loopback, std::to_string(late_port)}}));
  EXPECT_EQ(RowsOf(db, local + "direction = 'inbound' AND remote_port = " + std::to_string(source2),
                   late),
            (Rows{{loopback, std::to_string(late_port)}}));
  // The clients' connects: the source port each saw.
  EXPECT_EQ(
      RowsOf(db, local + "direction = 'outbound' AND remote_port = " + std::to_string(early_port),
             client1),
      (Rows{{loopback, std::to_string(source1)}}));
  EXPECT_EQ(
      RowsOf(db, local + "direction = 'outbound' AND remote_port = " + std::to_string(late_port),
             client2),
      (Rows{{loopback, std::to_string(source2)}}));
  // The one that was gone: empty, not guessed.
  EXPECT_EQ(
      RowsOf(db, local + "direction = 'outbound' AND remote_port = " + std::to_string(early_port),
             client3),
      (Rows{{"<null>", "<null>"}}));

  StopRecorder(recorder);
  // Counted in the run (other processes of the machine may add theirs).
  Rows counted = db.Query("SELECT unresolved_ports FROM runs ORDER BY run_id DESC LIMIT 1");
  ASSERT_EQ(counted.size(), 1u);
  EXPECT_GE(std::stoi(counted[0][0]), 1);
}

TEST_F(LivePorts, AnAcceptWithoutAddressesGetsBothSidesFromTheKernel) {
  // Started before the recorder, accepting with accept(fd, NULL, NULL):
  // audit gives such an accept no address on either side.
  auto [server, port] = Start("bare", {"bare"});
  ASSERT_NE(port, 0) << Log("bare");
  pid_t recorder = StartRecorder();

  // Held by the server while the recorder looks: both sides found.
  auto [held, held_port] = Start("held", {"tell", std::to_string(port), "h"});
  ASSERT_NE(held_port, 0) << Log("held");
  Db db(DbPath());
  const std::string sql =
      "SELECT family, local_address, local_port, remote_address, remote_port FROM network_events "
      "WHERE direction = 'inbound'";
  const std::string loopback = "127.0.0.1";
  EXPECT_EQ(RowsOf(db, sql + " AND remote_port = " + std::to_string(held_port), server),
            (Rows{{"ipv4", loopback, std::to_string(port), loopback, std::to_string(held_port)}}))
      << ReadLog();

  // Accepted and closed while the recorder is stopped: the listener's side
  // is still known, the client's is not (NULL, not guessed).
  ASSERT_EQ(kill(recorder, SIGSTOP), 0);
  auto [closed, closed_port] = Start("closed", {"tell", std::to_string(port), "c"});
  const int closed_exit = WaitExit(closed, 5s);
  kill(recorder, SIGCONT);
  if (closed_exit >= 0) guard_->Forget(closed);
  ASSERT_EQ(closed_exit, 0) << Log("closed");
  ASSERT_NE(closed_port, 0) << Log("closed");
  // The closed client's connect is the only other row of this port.
  EXPECT_EQ(RowsOf(db,
                   "SELECT local_port FROM network_events WHERE direction = 'outbound' AND "
                   "remote_port = " +
                       std::to_string(port),
                   closed),
            (Rows{{"<null>"}}));
  EXPECT_EQ(RowsOf(db, sql + " AND remote_port IS NULL", server),
            (Rows{{"ipv4", loopback, std::to_string(port), "<null>", "<null>"}}))
      << ReadLog();

  StopRecorder(recorder);
  Rows counted = db.Query("SELECT unresolved_ports FROM runs ORDER BY run_id DESC LIMIT 1");
  ASSERT_EQ(counted.size(), 1u);
  EXPECT_GE(std::stoi(counted[0][0]), 2) << "the closed client's connect and the server's accept";
}

}  // namespace
}  // namespace recorder
