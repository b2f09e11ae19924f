// Local addresses and ports of network events that audit does not give,
// looked up in the kernel while the process still holds the socket
// (live recording only; a replayed log cannot be looked up):
//
//  - listen on a socket whose bind the recorder did not see (a server
//    started before it) or that was bound to port 0 (an ephemeral port):
//    the listener's address and port;
//  - accept/accept4 on such a listener: the same, remembered per
//    (process, descriptor) and checked against the descriptor's socket
//    inode at each accept, so a busy listener costs a readlink per accept
//    and one table lookup per listener;
//  - accept(fd, NULL, NULL), which audit gives no address at all
//    (NetworkEvent::accepted_fd, NormalizerOptions::keep_unaddressed_accepts):
//    the listener's side as above, which also says whether it is a TCP
//    listener at all; then the remote address and port of the accepted
//    socket (its descriptor is the call's return value), taken only when
//    its local port is the listener's. When it is gone they stay empty
//    and the event is marked remote_unresolved (counted with the rest in
//    runs.unresolved_ports). An accept whose listener is no TCP listener
//    (AF_UNIX, most of them) or cannot be found is dropped
//    (DropUnknownAccepts; counted in unknown_accepts), as without the
//    lookup;
//  - connect (successful or in progress): the source address and port of
//    the connecting socket, taken only when the socket the kernel lists
//    is connected to the event's remote address and port.
//
// Cost: a readlink per event; a listener's lookup walks the kernel's
// listening sockets only, but finding a connected socket walks its whole
// table of connections (sock_diag cannot look one up by inode), whatever
// its size. FillBatch therefore looks up all of a batch's connects in one
// walk per address family and protocol.
//
// The socket is found by its inode (/proc/PID/fd/FD) in the kernel's
// tables (socket_table.h). When it is gone (closed, the process exited) or
// the descriptor now names another socket, the address stays empty, never
// guessed, and the event is marked local_unresolved (counted in
// runs.unresolved_ports). A remembered listener also serves an accept
// whose descriptor is closed by the time of the lookup (a server that
// exits right after accepting): the accept was made on it, unless the
// process closed it and listened on the same number again between two
// events, which its bind and listen events would have shown.
//
// Runs on one thread, for network events only (live: PortLookupWorker's,
// port_lookup_worker.h); the cache is bounded and a process's entries go
// with its exit. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "enrich/socket_table.h"
#include "normalize/event_batch.h"
#include "normalize/typed_event.h"

namespace recorder::enrich {

struct SocketPortsStats {
  uint64_t lookups = 0;          // events that needed an address
  uint64_t cache_hits = 0;       // answered by a remembered listener
  uint64_t found = 0;            // answered from the kernel's tables
  uint64_t unresolved = 0;       // marked local_unresolved or remote_unresolved
  uint64_t unknown_accepts = 0;  // accepts without address that are no TCP accept (dropped)
};

class SocketPorts {
 public:
  // `sockets` is borrowed. `max_listeners` bounds the remembered listeners.
  explicit SocketPorts(KernelSockets* sockets, size_t max_listeners = 4096);

  // Fills `event`'s local address and port when it is a network event
  // that lacks them and the kernel still has the socket; forgets a
  // process's listeners at its exit.
  void Fill(TypedEvent* event);
  // Fill for every event of `events`, the connects' sockets found with one
  // kernel table walk per family and protocol.
  void FillBatch(EventBatch* events);
  // For a batch that cannot wait for lookups: every event FillBatch would
  // look up is marked unresolved instead (an address-less accept gets
  // family unknown, for DropUnknownAccepts); exits still forget. Returns
  // how many were marked.
  uint64_t SkipBatch(EventBatch* events);

  // Whether FillBatch would look `event` up (a network event lacking a
  // local address, or an accept lacking the remote one).
  static bool Wants(const TypedEvent& event);
  // Removes the accepts whose family is still unknown after the lookups
  // (no TCP listener, or none found), keeping the order of the rest.
  // Returns how many went.
  static size_t DropUnknownAccepts(EventBatch* events);

  const SocketPortsStats& stats() const { return stats_; }
  size_t remembered() const { return remembered_; }

 private:
  struct Listener {
    int32_t fd = -1;
    uint64_t inode = 0;
    InetSocket socket;
  };
  Listener* Remembered(int32_t pid, int32_t fd);
  // Forgets the listeners of a process that exited; false for any other
  // event.
  bool Forget(const TypedEvent& event);
  void Remember(int32_t pid, int32_t fd, uint64_t inode, const InetSocket& socket);
  void FillListener(int32_t pid, NetworkEvent* n);
  // Fill without the accepted socket's lookup of an address-less accept;
  // that accept (listener found) is returned for the caller to look up.
  NetworkEvent* FillLocal(TypedEvent* event);
  // An accept's accepted socket `inode` (0: none) looked up on its own.
  void FillAccepted(int32_t pid, uint64_t inode, NetworkEvent* n);
  // Takes `found` as the accepted socket of `n` if its local port is the
  // listener's; marks `n` remote_unresolved otherwise.
  void TakeAccepted(const InetSocket* found, NetworkEvent* n);
  // A connect's socket `inode` (0: none) looked up on its own.
  void FillConnect(int32_t pid, uint64_t inode, NetworkEvent* n);
  // The connect of `event` that needs its local address looked up, or null.
  static NetworkEvent* ConnectToLookUp(TypedEvent* event);
  // Takes `found` for `n` if it is the connect's socket; marks `n`
  // unresolved otherwise.
  void TakeConnect(const InetSocket* found, NetworkEvent* n);
  struct PendingConnect {
    NetworkEvent* event;
    int32_t pid;
    uint64_t inode;
    bool accepted = false;  // an accept's accepted socket, not a connect
  };
  std::vector<PendingConnect> pending_;
  std::vector<uint64_t> inodes_;
  std::vector<InetSocket> found_;

  KernelSockets* const sockets_;
  const size_t max_listeners_;
  std::unordered_map<int32_t, std::vector<Listener>> listeners_;  // by pid
  size_t remembered_ = 0;
  SocketPortsStats stats_;
};

}  // namespace recorder::enrich
