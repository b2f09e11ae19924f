// Which process holds a socket, found from a packet's local address and
// port alone: for a capture that sees packets but not their sockets (the
// DNS monitor's packet socket, source/dns_capture.h, and BPF packets of a
// socket created before the programs were attached).
//
//   local port -> the socket (sock_diag, our network namespace, filtered
//   on that port in the kernel) -> its inode -> the process that has it
//   open (/proc/PID/fd/N = "socket:[inode]").
//
// The /proc walk reads every process's descriptors, newest pids first,
// and stops at the first holder; owners found are remembered by inode (a
// resolver's long-lived socket is walked for once). Walks are rationed
// like a token bucket: up to `walk_burst` at once (clients that start
// together, each with a new socket, are all named), then one more per
// `walk_interval_ms`; a lookup that would need a walk beyond that answers
// 0 (counted in stats().throttled), so a flood of new sockets costs a
// bounded share of a CPU. 0 too when the socket or its process is gone:
// never guessed. A socket shared by several processes (inherited across
// fork) gives one of them.
//
// Not thread-safe: one owner (the capture's thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/socket_table.h"

namespace recorder::enrich {

struct SocketOwnersStats {
  uint64_t lookups = 0;
  uint64_t found = 0;
  uint64_t no_socket = 0;   // no socket on that port (gone, or a raw socket's packet)
  uint64_t no_process = 0;  // a socket, but no process holds it any more
  uint64_t throttled = 0;   // a walk was needed, none was left in the budget
  uint64_t proc_walks = 0;
};

class SocketOwners {
 public:
  explicit SocketOwners(std::string proc = "/proc", int64_t walk_interval_ms = 50,
                        int walk_burst = 20);

  // The pid of the process holding the `protocol` socket of `family`
  // bound to local `port` (on `address`, or on the wildcard address), and
  // connected to `remote_address`:`remote_port` or not connected at all;
  // 0 when none is found. `now_ms`: a monotonic clock, for the interval.
  int32_t PidOf(AddressFamily family, NetworkProtocol protocol, std::string_view address,
                uint16_t port, std::string_view remote_address, uint16_t remote_port,
                int64_t now_ms);

  const SocketOwnersStats& stats() const { return stats_; }

 private:
  // The process with `inode` open; 0 when none.
  int32_t Walk(uint64_t inode);
  // Whether process `pid` has socket `inode` open.
  bool Holds(int32_t pid, uint64_t inode) const;

  const std::string proc_;
  // Whether a walk may be made at `now_ms`; takes it from the budget.
  bool TakeWalk(int64_t now_ms);

  const int64_t walk_interval_ms_;
  const int walk_burst_;
  KernelSockets sockets_;
  std::vector<InetSocket> found_;
  std::unordered_map<uint64_t, int32_t> owners_;  // inode -> pid, bounded
  int walks_left_;                                // the budget
  int64_t budget_earned_ms_ = INT64_MIN;          // when the budget last grew (INT64_MIN: unused)
  SocketOwnersStats stats_;
};

}  // namespace recorder::enrich
