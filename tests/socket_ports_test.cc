// Local addresses and ports from the kernel's socket tables: the parsers
// on bytes made here, and KernelSockets / SocketPorts / EnrichingSink on
// real loopback sockets of this process (the kernel is the real thing:
// /proc/self/fd, sock_diag, /proc/self/net/tcp).
#include "enrich/socket_ports.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "enrich/enriching_sink.h"
#include "enrich/port_lookup_worker.h"
#include "enrich/socket_owners.h"
#include "enrich/socket_table.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

// ---------------------------------------------------------------------------
// Parsers

TEST(SocketTableParse, SocketLink) {
  EXPECT_EQ(ParseSocketLink("socket:[4026531993]"), 4026531993u);
  EXPECT_EQ(ParseSocketLink("socket:[]"), 0u);
  EXPECT_EQ(ParseSocketLink("socket:[12x]"), 0u);
  EXPECT_EQ(ParseSocketLink("pipe:[123]"), 0u);
  EXPECT_EQ(ParseSocketLink("/dev/null"), 0u);
  EXPECT_EQ(ParseSocketLink("socket:[123"), 0u);
}

TEST(SocketTableParse, ProcNetTcpLines) {
  // Words in this machine's byte order, as the kernel prints them.
  auto word = [](const uint8_t b[4]) {
    uint32_t v;
    std::memcpy(&v, b, 4);
    char text[9];
    snprintf(text, sizeof(text), "%08X", v);
    return std::string(text);
  };
  const uint8_t loopback[4] = {127, 0, 0, 1};
  const uint8_t other[4] = {10, 1, 2, 3};
  const std::string v4 = "   3: " + word(loopback) + ":0016 " + word(other) +
                         ":D431 01 00000000:00000000 02:000A7F2C 00000000     0        0 "
                         "123456 2 0000000000000000 20 4 30 10 -1";
  auto s = ParseProcNetLine(v4, AddressFamily::kInet, NetworkProtocol::kTcp);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->local_address, "127.0.0.1");
  EXPECT_EQ(s->local_port, 22);
  EXPECT_EQ(s->remote_address, "10.1.2.3");
  EXPECT_EQ(s->remote_port, 0xD431);
  EXPECT_EQ(s->state, 1);
  EXPECT_EQ(s->inode, 123456u);
  EXPECT_EQ(s->protocol, NetworkProtocol::kTcp);

  const uint8_t zero[4] = {0, 0, 0, 0};
  const uint8_t one[4] = {0, 0, 0, 1};
  const std::string v6_local = word(zero) + word(zero) + word(zero) + word(one);
  const std::string v6 = "  0: " + v6_local + ":1F90 " + word(zero) + word(zero) + word(zero) +
                         word(zero) +
                         ":0000 0A 00000000:00000000 00:00000000 00000000   100        0 777 1 "
                         "0000000000000000 100 0 0 10 0";
  s = ParseProcNetLine(v6, AddressFamily::kInet6, NetworkProtocol::kTcp);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->local_address, "::1");
  EXPECT_EQ(s->local_port, 8080);
  EXPECT_EQ(s->remote_address, "::");
  EXPECT_EQ(s->state, kTcpListen);
  EXPECT_EQ(s->inode, 777u);

  // Not socket lines: the header, a v4 line read as v6, cut short, garbage.
  EXPECT_FALSE(
      ParseProcNetLine("  sl  local_address rem_address   st tx_queue rx_queue tr "
                       "tm->when retrnsmt   uid  timeout inode",
                       AddressFamily::kInet, NetworkProtocol::kTcp));
  EXPECT_FALSE(ParseProcNetLine(v4, AddressFamily::kInet6, NetworkProtocol::kTcp));
  EXPECT_FALSE(ParseProcNetLine(v4.substr(0, 40), AddressFamily::kInet, NetworkProtocol::kTcp));
  EXPECT_FALSE(ParseProcNetLine("", AddressFamily::kInet, NetworkProtocol::kTcp));
  EXPECT_FALSE(ParseProcNetLine("  0: ZZZZZZZZ:0016 00000000:0000 0A 0:0 0:0 0 0 0 5",
                                AddressFamily::kInet, NetworkProtocol::kTcp));
}

// A sock_diag reply as the kernel sends it: messages, then NLMSG_DONE.
class DiagReply {
 public:
  void Socket(int family, const char* src, uint16_t sport, const char* dst, uint16_t dport,
              uint8_t state, uint32_t inode) {
    inet_diag_msg msg{};
    msg.idiag_family = static_cast<uint8_t>(family);
    msg.idiag_state = state;
    msg.id.idiag_sport = htons(sport);
    msg.id.idiag_dport = htons(dport);
    inet_pton(family, src, msg.id.idiag_src);
    inet_pton(family, dst, msg.id.idiag_dst);
    msg.idiag_inode = inode;
    Add(SOCK_DIAG_BY_FAMILY, &msg, sizeof(msg));
  }
  void Done() {
    int32_t zero = 0;
    Add(NLMSG_DONE, &zero, sizeof(zero));
  }
  void Error(int error) {
    nlmsgerr e{};
    e.error = -error;
    Add(NLMSG_ERROR, &e, sizeof(e));
  }
  std::vector<uint8_t> bytes;

 private:
  void Add(uint16_t type, const void* payload, size_t size) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(size));
    h.nlmsg_type = type;
    const size_t at = bytes.size();
    bytes.resize(at + NLMSG_SPACE(size), 0);
    std::memcpy(bytes.data() + at, &h, sizeof(h));
    std::memcpy(bytes.data() + at + NLMSG_HDRLEN, payload, size);
  }
};

TEST(SocketTableParse, DiagReply) {
  DiagReply reply;
  reply.Socket(AF_INET, "127.0.0.1", 22, "0.0.0.0", 0, kTcpListen, 11);
  reply.Socket(AF_INET6, "::1", 40000, "::ffff:127.0.0.1", 443, 1, 12);
  std::vector<InetSocket> out;
  Result<bool> done =
      ParseDiagReply(reply.bytes.data(), reply.bytes.size(), NetworkProtocol::kTcp, &out);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_FALSE(*done);  // more messages follow
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (InetSocket{11, AddressFamily::kInet, NetworkProtocol::kTcp, "127.0.0.1", 22,
                                "0.0.0.0", 0, kTcpListen}));
  EXPECT_EQ(out[1], (InetSocket{12, AddressFamily::kInet6, NetworkProtocol::kTcp, "::1", 40000,
                                "::ffff:127.0.0.1", 443, 1}));

  reply.Done();
  out.clear();
  done = ParseDiagReply(reply.bytes.data(), reply.bytes.size(), NetworkProtocol::kUdp, &out);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].protocol, NetworkProtocol::kUdp);

  // A message longer than what arrived, and a length below the header's.
  out.clear();
  std::vector<uint8_t> cut(reply.bytes.begin(), reply.bytes.begin() + 30);
  EXPECT_FALSE(ParseDiagReply(cut.data(), cut.size(), NetworkProtocol::kTcp, &out).ok());
  std::vector<uint8_t> bad = reply.bytes;
  const uint32_t tiny = 4;
  std::memcpy(bad.data(), &tiny, sizeof(tiny));
  EXPECT_FALSE(ParseDiagReply(bad.data(), bad.size(), NetworkProtocol::kTcp, &out).ok());
  // A short tail (no whole header) ends the parse without a message.
  EXPECT_TRUE(ParseDiagReply(reply.bytes.data(), 7, NetworkProtocol::kTcp, &out).ok());

  DiagReply refused;
  refused.Error(EPERM);
  Result<bool> error =
      ParseDiagReply(refused.bytes.data(), refused.bytes.size(), NetworkProtocol::kTcp, &out);
  ASSERT_FALSE(error.ok());
  EXPECT_NE(error.status().message().find("sock_diag"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Real sockets of this process

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

int Port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

// A TCP listener on 127.0.0.1 (or ::1), port 0: the kernel picks one.
int Listen(int family = AF_INET) {
  const int fd = socket(family, SOCK_STREAM, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(*in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    len = sizeof(*in6);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int Connect(int port, int type = SOCK_STREAM) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  in.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&in), sizeof(in)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TypedEvent Net(NetworkDirection direction, AddressFamily family, int fd, std::string remote = "",
               int32_t remote_port = -1) {
  TypedEvent e;
  e.subject.pid = getpid();
  e.header.time_ms = 1700000000000;
  NetworkEvent n;
  n.direction = direction;
  n.protocol =
      direction == NetworkDirection::kOutbound ? NetworkProtocol::kUnknown : NetworkProtocol::kTcp;
  n.family = family;
  n.fd = fd;
  n.remote_address = std::move(remote);
  n.remote_port = remote_port;
  e.body = n;
  return e;
}

const NetworkEvent& N(const TypedEvent& e) { return std::get<NetworkEvent>(e.body); }

TEST(KernelSocketsTest, FindsListenersAndConnectionsBySockDiag) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  Fd client(Connect(port));
  ASSERT_GE(client.get(), 0);
  Fd other_listener(Listen());
  Fd other_client(Connect(Port(other_listener.get())));
  ASSERT_GE(other_client.get(), 0);

  KernelSockets sockets;
  const uint64_t listener_inode = sockets.InodeOf(getpid(), listener.get());
  ASSERT_NE(listener_inode, 0u);
  DiagQuery listening;
  listening.states = 1u << kTcpListen;
  auto found = sockets.Find(getpid(), listener_inode, listening);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->local_address, "127.0.0.1");
  EXPECT_EQ(found->local_port, port);
  EXPECT_EQ(found->state, kTcpListen);

  // Filtered by the remote port in the kernel: the client is found with
  // its own port, and not when another port is asked for.
  const uint64_t client_inode = sockets.InodeOf(getpid(), client.get());
  DiagQuery connected;
  connected.states = ~(1u << kTcpListen);
  connected.remote_port = port;
  found = sockets.Find(getpid(), client_inode, connected);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->local_port, Port(client.get()));
  EXPECT_EQ(found->remote_port, port);
  connected.remote_port = Port(other_listener.get());
  EXPECT_FALSE(sockets.Find(getpid(), client_inode, connected).has_value());
  // Every answer came from sock_diag (the bytecode filter was accepted).
  EXPECT_EQ(sockets.stats().diag_failures, 0u);
  EXPECT_EQ(sockets.stats().proc_net_reads, 0u);
  EXPECT_GT(sockets.stats().diag_dumps, 0u);

  // Not a socket, closed, no such process.
  EXPECT_EQ(sockets.InodeOf(getpid(), 0x7ffffff0), 0u);
  EXPECT_EQ(sockets.InodeOf(0, listener.get()), 0u);
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  Fd read_end(ends[0]), write_end(ends[1]);
  EXPECT_EQ(sockets.InodeOf(getpid(), ends[0]), 0u);
}

TEST(KernelSocketsTest, ProcNetFallbackReadsTheSameSocket) {
  // A procfs where our own network namespace cannot be read (no self/):
  // the process is not known to share it, so its /proc/PID/net/tcp is
  // read instead of asking sock_diag.
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  TempDir proc;
  const std::string pid = std::to_string(getpid());
  ASSERT_EQ(symlink(("/proc/" + pid).c_str(), proc.File(pid).c_str()), 0);
  KernelSockets sockets(proc.path());
  const uint64_t inode = sockets.InodeOf(getpid(), listener.get());
  ASSERT_NE(inode, 0u);
  DiagQuery listening;
  listening.states = 1u << kTcpListen;
  auto found = sockets.Find(getpid(), inode, listening);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->local_address, "127.0.0.1");
  EXPECT_EQ(found->local_port, Port(listener.get()));
  EXPECT_EQ(sockets.stats().diag_dumps, 0u);
  EXPECT_EQ(sockets.stats().proc_net_reads, 1u);
  // Not among the states asked for: not found.
  listening.states = 1u << 1;
  EXPECT_FALSE(sockets.Find(getpid(), inode, listening).has_value());
}

TEST(SocketPortsTest, ListenerAddressIsLookedUpOnceAndRememberedPerDescriptor) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  KernelSockets sockets;
  SocketPorts ports(&sockets);

  // listen after bind(port 0): the normalizer had the address, port -1.
  TypedEvent listen = Net(NetworkDirection::kListen, AddressFamily::kInet, listener.get());
  std::get<NetworkEvent>(listen.body).local_address = "127.0.0.1";
  ports.Fill(&listen);
  EXPECT_EQ(N(listen).local_port, port);
  EXPECT_EQ(N(listen).local_address, "127.0.0.1");
  EXPECT_FALSE(N(listen).local_unresolved);

  // accepts: answered from what was remembered, checked by inode.
  TypedEvent accept =
      Net(NetworkDirection::kInbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 40000);
  ports.Fill(&accept);
  EXPECT_EQ(N(accept).local_address, "127.0.0.1");
  EXPECT_EQ(N(accept).local_port, port);
  EXPECT_EQ(ports.stats().found, 1u);
  EXPECT_EQ(ports.stats().cache_hits, 1u);

  // The descriptor now names another listener: looked up again.
  Fd second(Listen());
  ASSERT_GE(second.get(), 0);
  ASSERT_EQ(dup2(second.get(), listener.get()), listener.get());
  accept = Net(NetworkDirection::kInbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 1);
  ports.Fill(&accept);
  EXPECT_EQ(N(accept).local_port, Port(second.get()));
  EXPECT_NE(N(accept).local_port, port);
  EXPECT_EQ(ports.stats().found, 2u);

  // Closed since: the accept was made on the remembered listener.
  const int number = listener.get();
  listener.Close();
  accept = Net(NetworkDirection::kInbound, AddressFamily::kInet, number, "127.0.0.1", 2);
  ports.Fill(&accept);
  EXPECT_EQ(N(accept).local_port, Port(second.get()));
  EXPECT_EQ(ports.stats().cache_hits, 2u);

  // The process ended: its listeners are forgotten; nothing to find.
  TypedEvent end;
  end.subject.pid = getpid();
  end.body = ProcessEnd{};
  ports.Fill(&end);
  EXPECT_EQ(ports.remembered(), 0u);
  accept = Net(NetworkDirection::kInbound, AddressFamily::kInet, number, "127.0.0.1", 3);
  ports.Fill(&accept);
  EXPECT_TRUE(N(accept).local_address.empty());
  EXPECT_EQ(N(accept).local_port, -1);
  EXPECT_TRUE(N(accept).local_unresolved);
  EXPECT_EQ(ports.stats().unresolved, 1u);
}

TEST(SocketPortsTest, ListenWithoutBindGetsFamilyAddressAndPort) {
  Fd v6(Listen(AF_INET6));
  if (v6.get() < 0) GTEST_SKIP() << "no IPv6 loopback here";
  KernelSockets sockets;
  SocketPorts ports(&sockets);
  TypedEvent listen = Net(NetworkDirection::kListen, AddressFamily::kOther, v6.get());
  ports.Fill(&listen);
  EXPECT_EQ(N(listen).family, AddressFamily::kInet6);
  EXPECT_EQ(N(listen).local_address, "::1");
  EXPECT_EQ(N(listen).local_port, Port(v6.get()));

  // A unix listener is no TCP socket: left as it was, not counted.
  Fd local(socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path + 1, "recorder-socket-ports-test");  // abstract
  ASSERT_EQ(bind(local.get(), reinterpret_cast<sockaddr*>(&un), sizeof(un)), 0);
  ASSERT_EQ(::listen(local.get(), 1), 0);
  listen = Net(NetworkDirection::kListen, AddressFamily::kOther, local.get());
  ports.Fill(&listen);
  EXPECT_EQ(N(listen).family, AddressFamily::kOther);
  EXPECT_EQ(N(listen).local_port, -1);
  EXPECT_FALSE(N(listen).local_unresolved);
  EXPECT_EQ(ports.stats().unresolved, 0u);
}

TEST(SocketPortsTest, ConnectGetsItsSourcePortOnlyFromTheSocketItMade) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  Fd client(Connect(port));
  ASSERT_GE(client.get(), 0);
  KernelSockets sockets;
  SocketPorts ports(&sockets);

  TypedEvent connect =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, client.get(), "127.0.0.1", port);
  ports.Fill(&connect);
  EXPECT_EQ(N(connect).local_address, "127.0.0.1");
  EXPECT_EQ(N(connect).local_port, Port(client.get()));
  EXPECT_EQ(N(connect).protocol, NetworkProtocol::kTcp);
  EXPECT_FALSE(N(connect).local_unresolved);

  // The descriptor is connected elsewhere than the event says (reused
  // since): not this connect's socket.
  TypedEvent elsewhere =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, client.get(), "127.0.0.1", port + 1);
  ports.Fill(&elsewhere);
  EXPECT_EQ(N(elsewhere).local_port, -1);
  EXPECT_TRUE(N(elsewhere).local_unresolved);

  // UDP: a connected datagram socket, protocol unknown to audit.
  Fd udp(Connect(port, SOCK_DGRAM));
  ASSERT_GE(udp.get(), 0);
  TypedEvent datagram =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, udp.get(), "127.0.0.1", port);
  ports.Fill(&datagram);
  EXPECT_EQ(N(datagram).protocol, NetworkProtocol::kUdp);
  EXPECT_EQ(N(datagram).local_port, Port(udp.get()));

  // Gone before the lookup: empty and marked.
  const int number = client.get();
  client.Close();
  TypedEvent gone =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, number, "127.0.0.1", port);
  ports.Fill(&gone);
  EXPECT_TRUE(N(gone).local_address.empty());
  EXPECT_EQ(N(gone).local_port, -1);
  EXPECT_TRUE(N(gone).local_unresolved);
  EXPECT_EQ(ports.stats().unresolved, 2u);

  // A refused connect leaves nothing to look for: not counted.
  TypedEvent refused =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, number, "127.0.0.1", port);
  refused.header.success = false;
  ports.Fill(&refused);
  EXPECT_FALSE(N(refused).local_unresolved);
  EXPECT_EQ(ports.stats().unresolved, 2u);
  // Another machine's event (node=) is never looked up here.
  TypedEvent remote =
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, udp.get(), "127.0.0.1", port);
  remote.header.node = "otherhost";
  ports.Fill(&remote);
  EXPECT_EQ(N(remote).local_port, -1);
  EXPECT_FALSE(N(remote).local_unresolved);
}

TEST(SocketPortsTest, ABatchsConnectsAreFoundInOneWalkPerProtocol) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  Fd a(Connect(port)), b(Connect(port)), udp(Connect(port, SOCK_DGRAM));
  ASSERT_GE(a.get(), 0);
  ASSERT_GE(b.get(), 0);
  ASSERT_GE(udp.get(), 0);
  Fd gone(Connect(port));
  const int gone_number = gone.get();
  gone.Close();
  KernelSockets sockets;
  SocketPorts ports(&sockets);
  EventBatch batch;
  for (int fd : {a.get(), b.get(), udp.get(), gone_number})
    batch.push_back(Net(NetworkDirection::kOutbound, AddressFamily::kInet, fd, "127.0.0.1", port));
  // And a listen in the same batch, answered on its own.
  TypedEvent listen = Net(NetworkDirection::kListen, AddressFamily::kOther, listener.get());
  batch.push_back(listen);
  ports.FillBatch(&batch);
  EXPECT_EQ(N(batch[0]).local_port, Port(a.get()));
  EXPECT_EQ(N(batch[1]).local_port, Port(b.get()));
  EXPECT_EQ(N(batch[2]).local_port, Port(udp.get()));
  EXPECT_EQ(N(batch[2]).protocol, NetworkProtocol::kUdp);
  EXPECT_EQ(N(batch[3]).local_port, -1);
  EXPECT_TRUE(N(batch[3]).local_unresolved);
  EXPECT_EQ(N(batch[4]).local_port, port);
  // The listener: one dump of listening sockets; the connects: one walk
  // of TCP sockets, one of UDP sockets for the one TCP did not have.
  EXPECT_EQ(sockets.stats().diag_dumps, 3u);
  EXPECT_EQ(ports.stats().lookups, 5u);
  EXPECT_EQ(ports.stats().found, 4u);
  EXPECT_EQ(ports.stats().unresolved, 1u);
}

class CaptureSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (TypedEvent& e : *events) events_.push_back(std::move(e));
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }
  EventBatch events_;
};

// accept(fd, NULL, NULL) on a listener not seen: audit gives no address
// at all. The listener says the family and local side (and that it is a
// TCP one), the accepted descriptor the remote side.
TypedEvent BareAccept(int listener, int accepted) {
  TypedEvent e = Net(NetworkDirection::kInbound, AddressFamily::kOther, listener);
  std::get<NetworkEvent>(e.body).accepted_fd = accepted;
  return e;
}

TEST(SocketPortsTest, AnAddresslessAcceptGetsBothSidesFromTheKernel) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  Fd client1(Connect(port)), client2(Connect(port));
  ASSERT_GE(client2.get(), 0);
  Fd accepted1(accept(listener.get(), nullptr, nullptr));
  Fd accepted2(accept(listener.get(), nullptr, nullptr));
  ASSERT_GE(accepted2.get(), 0);
  KernelSockets sockets;
  SocketPorts ports(&sockets);

  EventBatch batch;
  batch.push_back(BareAccept(listener.get(), accepted1.get()));
  batch.push_back(BareAccept(listener.get(), accepted2.get()));
  // The second accepted socket is closed before the lookup: its remote
  // side is unknown, marked, not guessed; the local side still known.
  batch.push_back(BareAccept(listener.get(), accepted2.get()));
  ports.FillBatch(&batch);
  for (int i : {0, 1, 2}) {
    EXPECT_EQ(N(batch[i]).family, AddressFamily::kInet) << i;
    EXPECT_EQ(N(batch[i]).local_address, "127.0.0.1") << i;
    EXPECT_EQ(N(batch[i]).local_port, port) << i;
  }
  EXPECT_EQ(N(batch[0]).remote_address, "127.0.0.1");
  EXPECT_EQ(N(batch[0]).remote_port, Port(client1.get()));
  EXPECT_EQ(N(batch[1]).remote_port, Port(client2.get()));
  EXPECT_FALSE(N(batch[0]).remote_unresolved);

  const int number = accepted2.get();
  accepted2.Close();
  TypedEvent gone = BareAccept(listener.get(), number);
  ports.Fill(&gone);
  EXPECT_EQ(N(gone).local_port, port);
  EXPECT_TRUE(N(gone).remote_address.empty());
  EXPECT_EQ(N(gone).remote_port, -1);
  EXPECT_TRUE(N(gone).remote_unresolved);
  EXPECT_FALSE(N(gone).local_unresolved);

  // The descriptor names a socket of another port now: not this accept's.
  Fd other_listener(Listen());
  Fd other_client(Connect(Port(other_listener.get())));
  ASSERT_GE(other_client.get(), 0);
  ASSERT_EQ(dup2(other_client.get(), number), number);
  TypedEvent reused = BareAccept(listener.get(), number);
  ports.Fill(&reused);
  EXPECT_TRUE(N(reused).remote_unresolved);
  EXPECT_EQ(N(reused).remote_port, -1);
  close(number);
}

TEST(SocketPortsTest, AnAddresslessAcceptOnAUnixListenerIsDropped) {
  Fd local(socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::strcpy(un.sun_path + 1, "recorder-socket-ports-accept");  // abstract
  ASSERT_EQ(bind(local.get(), reinterpret_cast<sockaddr*>(&un), sizeof(un)), 0);
  ASSERT_EQ(::listen(local.get(), 1), 0);
  Fd client(socket(AF_UNIX, SOCK_STREAM, 0));
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&un), sizeof(un)), 0);
  Fd accepted(accept(local.get(), nullptr, nullptr));
  ASSERT_GE(accepted.get(), 0);
  Fd listener(Listen());
  Fd tcp_client(Connect(Port(listener.get())));
  Fd tcp_accepted(accept(listener.get(), nullptr, nullptr));
  ASSERT_GE(tcp_accepted.get(), 0);

  KernelSockets sockets;
  SocketPorts ports(&sockets);
  EventBatch batch;
  batch.push_back(BareAccept(local.get(), accepted.get()));
  batch.push_back(BareAccept(listener.get(), tcp_accepted.get()));
  batch.push_back(BareAccept(local.get(), accepted.get()));
  ports.FillBatch(&batch);
  EXPECT_EQ(N(batch[0]).family, AddressFamily::kOther);
  EXPECT_EQ(ports.stats().unknown_accepts, 2u);
  EXPECT_EQ(ports.stats().unresolved, 0u) << "nothing was missed";
  EXPECT_EQ(SocketPorts::DropUnknownAccepts(&batch), 2u);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(N(batch[0]).remote_port, Port(tcp_client.get()));
}

TEST(SocketPortsTest, ASkippedBatchIsMarkedUnresolvedAndStillForgets) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  KernelSockets sockets;
  SocketPorts ports(&sockets);
  TypedEvent listen = Net(NetworkDirection::kListen, AddressFamily::kInet, listener.get());
  ports.Fill(&listen);
  ASSERT_EQ(ports.remembered(), 1u);

  EventBatch batch;
  batch.push_back(
      Net(NetworkDirection::kOutbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 9));
  batch.push_back(Net(NetworkDirection::kListen, AddressFamily::kInet, listener.get()));
  batch.push_back(BareAccept(listener.get(), 99));  // family unknown: for dropping
  TypedEvent end;
  end.subject.pid = getpid();
  end.body = ProcessEnd{};
  batch.push_back(end);
  EXPECT_TRUE(SocketPorts::Wants(batch[0]));
  EXPECT_TRUE(SocketPorts::Wants(batch[1]));
  EXPECT_TRUE(SocketPorts::Wants(batch[2]));
  EXPECT_FALSE(SocketPorts::Wants(batch[3]));
  EXPECT_EQ(ports.SkipBatch(&batch), 2u);
  EXPECT_TRUE(N(batch[0]).local_unresolved);
  EXPECT_EQ(N(batch[0]).local_port, -1);
  EXPECT_TRUE(N(batch[1]).local_unresolved);
  EXPECT_EQ(ports.stats().unknown_accepts, 1u);
  EXPECT_EQ(ports.remembered(), 0u);
  EXPECT_EQ(SocketPorts::DropUnknownAccepts(&batch), 1u);
  EXPECT_EQ(batch.size(), 3u);
}

TEST(KernelSocketsTest, ListFiltersOnTheLocalPortInTheKernel) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  Fd client(Connect(port));
  ASSERT_GE(client.get(), 0);
  KernelSockets sockets;
  DiagQuery query;
  query.local_port = Port(client.get());
  std::vector<InetSocket> found;
  ASSERT_TRUE(sockets.List(query, &found).ok());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].inode, sockets.InodeOf(getpid(), client.get()));
  EXPECT_EQ(found[0].remote_port, port);
  // Both ports at once: the listener's accepted side.
  found.clear();
  query.local_port = port;
  query.remote_port = Port(client.get());
  ASSERT_TRUE(sockets.List(query, &found).ok());
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].local_port, port);
  EXPECT_EQ(found[0].state, 1) << "established, not the listener";
}

// The packet-socket DNS capture's attribution: a packet's local port ->
// the socket -> the process holding it (here: this test).
TEST(SocketOwnersTest, APacketsLocalPortNamesTheProcessHoldingTheSocket) {
  Fd udp(socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(udp.get(), reinterpret_cast<sockaddr*>(&in), sizeof(in)), 0);
  const auto port = static_cast<uint16_t>(Port(udp.get()));
  Fd connected(Connect(9, SOCK_DGRAM));  // UDP connect needs no peer
  ASSERT_GE(connected.get(), 0);
  const auto connected_port = static_cast<uint16_t>(Port(connected.get()));

  SocketOwners owners("/proc", /*min_walk_interval_ms=*/0);
  const auto udp_protocol = NetworkProtocol::kUdp;
  // Unconnected (a plain sendto): any peer.
  EXPECT_EQ(
      owners.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1", port, "127.0.0.77", 53, 1000),
      getpid());
  EXPECT_EQ(owners.stats().proc_walks, 1u);
  // Remembered by inode, checked against the holder's descriptors.
  EXPECT_EQ(
      owners.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1", port, "127.0.0.77", 53, 1001),
      getpid());
  EXPECT_EQ(owners.stats().proc_walks, 1u);
  // Connected: only to its peer.
  EXPECT_EQ(owners.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1", connected_port,
                         "127.0.0.1", 9, 1002),
            getpid());
  EXPECT_EQ(owners.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1", connected_port,
                         "127.0.0.1", 53, 1003),
            0);
  // Gone: nothing, never guessed.
  udp.Close();
  EXPECT_EQ(
      owners.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1", port, "127.0.0.77", 53, 1004),
      0);
  EXPECT_EQ(owners.stats().found, 3u);
  EXPECT_EQ(owners.stats().no_socket, 2u);

  // Walks are rationed: a burst of two, then one per second. Three
  // sockets new at once: two are named, the third waits for the budget.
  SocketOwners limited("/proc", /*walk_interval_ms=*/1000, /*walk_burst=*/2);
  Fd a(Connect(9, SOCK_DGRAM)), b(Connect(9, SOCK_DGRAM)), c(Connect(9, SOCK_DGRAM));
  auto pid_of = [&](int fd, int64_t now) {
    return limited.PidOf(AddressFamily::kInet, udp_protocol, "127.0.0.1",
                         static_cast<uint16_t>(Port(fd)), "127.0.0.1", 9, now);
  };
  EXPECT_EQ(pid_of(a.get(), 5000), getpid());
  EXPECT_EQ(pid_of(b.get(), 5010), getpid()) << "within the burst";
  EXPECT_EQ(pid_of(c.get(), 5020), 0) << "the budget is spent";
  EXPECT_EQ(limited.stats().throttled, 1u);
  EXPECT_EQ(pid_of(a.get(), 5030), getpid()) << "remembered: needs no walk";
  EXPECT_EQ(pid_of(c.get(), 6000), getpid()) << "one walk earned a second later";
  EXPECT_EQ(limited.stats().proc_walks, 3u);
  // Idle time earns up to the burst, not more.
  Fd d(Connect(9, SOCK_DGRAM)), e(Connect(9, SOCK_DGRAM)), f(Connect(9, SOCK_DGRAM));
  EXPECT_EQ(pid_of(d.get(), 60000), getpid());
  EXPECT_EQ(pid_of(e.get(), 60000), getpid());
  EXPECT_EQ(pid_of(f.get(), 60000), 0);
  EXPECT_EQ(limited.stats().throttled, 2u);
}

// The lookups on a thread of their own (live): batches leave in the order
// they came, after their lookups, at Consume, Tick or Flush.
TEST(SocketPortsTest, LookupsOnTheirOwnThreadKeepTheOrder) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  const int port = Port(listener.get());
  CaptureSink out;
  EnrichingSinkOptions options;
  options.hash_executables = false;
  options.live_ports = true;
  options.ports_on_thread = true;
  EnrichingSink sink(&out, nullptr, nullptr, nullptr, options);
  EXPECT_EQ(sink.ports(), nullptr);

  auto file = [](std::string path) {
    TypedEvent e;
    e.subject.pid = getpid();
    FileEvent f;
    f.path = std::move(path);
    e.body = f;
    return e;
  };
  // Nothing to look up and nothing out: straight through.
  EventBatch batch;
  batch.push_back(file("/first"));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_EQ(out.events_.size(), 1u);
  // A batch with a lookup, then one without: the second waits its turn.
  batch.clear();
  batch.push_back(
      Net(NetworkDirection::kInbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 5));
  batch.push_back(file("/second"));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  batch.clear();
  batch.push_back(file("/third"));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  ASSERT_TRUE(sink.Flush().ok());
  ASSERT_EQ(out.events_.size(), 4u);
  EXPECT_EQ(N(out.events_[1]).local_port, port);
  EXPECT_EQ(std::get<FileEvent>(out.events_[2].body).path, "/second");
  EXPECT_EQ(std::get<FileEvent>(out.events_[3].body).path, "/third");
  EXPECT_EQ(sink.ports_in_flight(), 0u);
  // The third went to the worker only if the second was still out when it
  // came; a worker that finished first lets it straight through. The
  // order above holds either way.
  EXPECT_GE(sink.port_stats().batches, 1u);
  EXPECT_LE(sink.port_stats().batches, 2u);
  EXPECT_EQ(sink.port_stats().ports.found, 1u);

  // Tick hands on what the worker finished, without a new batch.
  batch.clear();
  batch.push_back(
      Net(NetworkDirection::kInbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 6));
  ASSERT_TRUE(sink.Consume(&batch).ok());
  for (int i = 0; i < 500 && out.events_.size() < 5; ++i) {
    usleep(2000);
    ASSERT_TRUE(sink.Tick(0).ok());
  }
  ASSERT_EQ(out.events_.size(), 5u);
  EXPECT_EQ(N(out.events_[4]).local_port, port);
}

// Replay: the stage looks nothing up, whatever sockets exist now.
TEST(SocketPortsTest, EnrichingSinkLooksUpOnlyWhenLive) {
  Fd listener(Listen());
  ASSERT_GE(listener.get(), 0);
  for (bool live : {false, true}) {
    CaptureSink out;
    EnrichingSinkOptions options;
    options.hash_executables = false;
    options.live_ports = live;
    EnrichingSink sink(&out, nullptr, nullptr, nullptr, options);
    EventBatch batch;
    batch.push_back(
        Net(NetworkDirection::kInbound, AddressFamily::kInet, listener.get(), "127.0.0.1", 5));
    ASSERT_TRUE(sink.Consume(&batch).ok());
    ASSERT_EQ(out.events_.size(), 1u);
    EXPECT_EQ(N(out.events_[0]).local_port, live ? Port(listener.get()) : -1) << live;
    EXPECT_EQ(sink.ports() != nullptr, live);
  }
}

}  // namespace
}  // namespace recorder::enrich
