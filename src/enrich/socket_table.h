// The kernel's tables of TCP and UDP sockets, and how to find one socket
// of a process in them: the socket's inode from /proc/PID/fd/FD
// ("socket:[N]"), then the socket diagnostics netlink family
// (NETLINK_SOCK_DIAG, inet_diag) or, where that is unavailable or the
// process lives in another network namespace, /proc/PID/net/{tcp,udp}{,6}.
//
// The parsers (ParseSocketLink, ParseProcNetLine, ParseDiagReply) are pure
// and safe on any bytes; KernelSockets does the reading. Addresses are
// text in the form the normalizer gives audit's sockaddrs (inet_ntop), so
// the two compare equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/typed_event.h"
#include "util/status.h"

namespace recorder::enrich {

// One socket as the kernel lists it.
struct InetSocket {
  uint64_t inode = 0;
  AddressFamily family = AddressFamily::kOther;  // kInet or kInet6
  NetworkProtocol protocol = NetworkProtocol::kUnknown;
  std::string local_address;
  int32_t local_port = -1;
  std::string remote_address;
  int32_t remote_port = -1;
  uint8_t state = 0;  // TCP state number (1 established, 10 listen; UDP: 1 or 7)

  bool operator==(const InetSocket&) const = default;
};

inline constexpr uint8_t kTcpListen = 10;

// The inode of a "/proc/PID/fd/N" link's text "socket:[N]"; 0 for any
// other text.
uint64_t ParseSocketLink(std::string_view link);

// One line of /proc/net/tcp, tcp6, udp or udp6 (not the header line):
// nullopt when it is not one.
std::optional<InetSocket> ParseProcNetLine(std::string_view line, AddressFamily family,
                                           NetworkProtocol protocol);

// Appends the sockets of a sock_diag dump reply (`size` bytes of netlink
// messages, as one recv returns them) to `out`. Returns true once the
// dump's end (NLMSG_DONE) is in it; an error for an NLMSG_ERROR message
// (its code is the errno) or a message that does not fit.
Result<bool> ParseDiagReply(const uint8_t* data, size_t size, NetworkProtocol protocol,
                            std::vector<InetSocket>* out);

// What one dump asks for.
struct DiagQuery {
  AddressFamily family = AddressFamily::kInet;
  NetworkProtocol protocol = NetworkProtocol::kTcp;
  uint32_t states = ~0u;     // bit (1 << state) per TCP state wanted
  int32_t remote_port = -1;  // >= 0: only sockets connected to this port
  int32_t local_port = -1;   // >= 0: only sockets bound to this port
};

// The request for `query`, ready to send to a NETLINK_SOCK_DIAG socket.
std::vector<uint8_t> DiagRequest(const DiagQuery& query, uint32_t sequence);

struct KernelSocketsStats {
  uint64_t diag_dumps = 0;      // sock_diag requests made
  uint64_t diag_failures = 0;   // ... that failed (then /proc/net was read)
  uint64_t proc_net_reads = 0;  // /proc/PID/net files read
};

// Reads the kernel's tables. Not thread-safe: one owner.
class KernelSockets {
 public:
  // `proc` is the procfs mount ("/proc").
  explicit KernelSockets(std::string proc = "/proc");
  ~KernelSockets();
  KernelSockets(const KernelSockets&) = delete;
  KernelSockets& operator=(const KernelSockets&) = delete;

  // The inode of the socket process `pid` holds as descriptor `fd`; 0
  // when the descriptor is closed, not a socket, or the process is gone.
  uint64_t InodeOf(int32_t pid, int32_t fd) const;

  // The socket `inode` of `query.protocol` in the network namespace of
  // process `pid`, of `query.family` (kOther: v4 then v6), among the
  // states `query.states`. nullopt when it is in none of the tables.
  std::optional<InetSocket> Find(int32_t pid, uint64_t inode, const DiagQuery& query);
  // Several sockets of processes in our network namespace with one dump
  // of `query.family` (kInet or kInet6): those of `inodes` (sorted) found
  // are appended to `out`. An error when sock_diag fails.
  Status FindMany(const std::vector<uint64_t>& inodes, const DiagQuery& query,
                  std::vector<InetSocket>* out);

  // Every socket `query` asks for in our network namespace, appended to
  // `out`. An error when sock_diag fails.
  Status List(const DiagQuery& query, std::vector<InetSocket>* out);

  // Whether `pid` shares our network namespace (sock_diag then sees its
  // sockets).
  bool SameNetns(int32_t pid) const;

  const KernelSocketsStats& stats() const { return stats_; }

 private:
  // One dump: `take` sees every socket it lists.
  template <typename Take>
  Status Dump(const DiagQuery& query, Take take);
  std::optional<InetSocket> ReadProcNet(int32_t pid, uint64_t inode, const DiagQuery& query);

  const std::string proc_;
  std::string own_netns_;  // "net:[N]" of this process; empty when unreadable
  int diag_fd_ = -1;       // opened at first use
  uint32_t sequence_ = 0;
  std::vector<uint8_t> buffer_;
  std::vector<InetSocket> scratch_;
  KernelSocketsStats stats_;
};

}  // namespace recorder::enrich
