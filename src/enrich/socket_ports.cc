#include "enrich/socket_ports.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <variant>

namespace recorder::enrich {
namespace {

constexpr uint32_t kListening = 1u << kTcpListen;

bool IsInet(AddressFamily family) {
  return family == AddressFamily::kInet || family == AddressFamily::kInet6;
}

bool Wildcard(std::string_view address) {
  return address.empty() || address == "0.0.0.0" || address == "::";
}

// The network event `event` is, when it is one of this machine's that the
// kernel's tables can say something about.
const NetworkEvent* Lookable(const TypedEvent& event) {
  const auto* n = std::get_if<NetworkEvent>(&event.body);
  if (n == nullptr || n->fd < 0 || event.subject.pid <= 0 || !event.header.node.empty())
    return nullptr;
  return n;
}

bool IsConnectToLookUp(const TypedEvent& event) {
  const NetworkEvent* n = Lookable(event);
  if (n == nullptr || n->direction != NetworkDirection::kOutbound || !IsInet(n->family))
    return false;
  // A refused connect leaves no socket with a port to find.
  if (!event.header.success && !n->in_progress) return false;
  return !(n->local_port > 0 && !Wildcard(n->local_address));
}

bool WantsListener(const NetworkEvent& n) {
  return n.family != AddressFamily::kUnix && n.direction != NetworkDirection::kOutbound &&
         n.local_port < 0;
}

// An accept that audit gave no remote address (accept(fd, NULL, NULL)).
bool WantsAccepted(const NetworkEvent& n) {
  return n.direction == NetworkDirection::kInbound && n.accepted_fd >= 0 && n.remote_port < 0 &&
         n.remote_address.empty() && (n.family == AddressFamily::kOther || IsInet(n.family));
}

bool IsUnknownAccept(const TypedEvent& event) {
  const auto* n = std::get_if<NetworkEvent>(&event.body);
  return n != nullptr && n->direction == NetworkDirection::kInbound &&
         n->family == AddressFamily::kOther && n->accepted_fd >= 0 && n->remote_address.empty();
}

void TakeLocal(const InetSocket& s, NetworkEvent* n) {
  n->family = s.family;
  n->local_address = s.local_address;
  n->local_port = s.local_port;
}

}  // namespace

SocketPorts::SocketPorts(KernelSockets* sockets, size_t max_listeners)
    : sockets_(sockets), max_listeners_(max_listeners > 0 ? max_listeners : 1) {}

SocketPorts::Listener* SocketPorts::Remembered(int32_t pid, int32_t fd) {
  auto it = listeners_.find(pid);
  if (it == listeners_.end()) return nullptr;
  for (Listener& l : it->second)
    if (l.fd == fd) return &l;
  return nullptr;
}

void SocketPorts::Remember(int32_t pid, int32_t fd, uint64_t inode, const InetSocket& socket) {
  if (Listener* known = Remembered(pid, fd)) {
    known->inode = inode;
    known->socket = socket;
    return;
  }
  if (remembered_ >= max_listeners_) {
    listeners_.clear();
    remembered_ = 0;
  }
  listeners_[pid].push_back(Listener{fd, inode, socket});
  ++remembered_;
}

NetworkEvent* SocketPorts::ConnectToLookUp(TypedEvent* event) {
  if (!IsConnectToLookUp(*event)) return nullptr;
  return &std::get<NetworkEvent>(event->body);
}

bool SocketPorts::Wants(const TypedEvent& event) {
  if (IsConnectToLookUp(event)) return true;
  const NetworkEvent* n = Lookable(event);
  return n != nullptr && (WantsListener(*n) || WantsAccepted(*n));
}

size_t SocketPorts::DropUnknownAccepts(EventBatch* events) {
  size_t kept = 0;
  for (size_t i = 0; i < events->size(); ++i) {
    if (IsUnknownAccept((*events)[i])) continue;
    if (kept != i) std::swap((*events)[kept], (*events)[i]);
    ++kept;
  }
  const size_t dropped = events->size() - kept;
  events->Truncate(kept);
  return dropped;
}

bool SocketPorts::Forget(const TypedEvent& event) {
  if (!std::holds_alternative<ProcessEnd>(event.body)) return false;
  auto it = listeners_.find(event.subject.pid);
  if (it != listeners_.end()) {
    remembered_ -= it->second.size();
    listeners_.erase(it);
  }
  return true;
}

NetworkEvent* SocketPorts::FillLocal(TypedEvent* event) {
  auto* n = std::get_if<NetworkEvent>(&event->body);
  // Another machine's events (node=) cannot be looked up here.
  if (Lookable(*event) == nullptr) return nullptr;
  if (WantsListener(*n)) FillListener(event->subject.pid, n);
  if (!WantsAccepted(*n)) return nullptr;
  if (n->family == AddressFamily::kOther) {
    // No TCP listener: an AF_UNIX accept, or a listener gone unseen.
    ++stats_.unknown_accepts;
    return nullptr;
  }
  return n;
}

void SocketPorts::Fill(TypedEvent* event) {
  if (Forget(*event)) return;
  const int32_t pid = event->subject.pid;
  if (NetworkEvent* connect = ConnectToLookUp(event)) {
    ++stats_.lookups;
    FillConnect(pid, sockets_->InodeOf(pid, connect->fd), connect);
    return;
  }
  if (NetworkEvent* accepted = FillLocal(event))
    FillAccepted(pid, sockets_->InodeOf(pid, accepted->accepted_fd), accepted);
}

uint64_t SocketPorts::SkipBatch(EventBatch* events) {
  uint64_t marked = 0;
  for (TypedEvent& event : *events) {
    if (Forget(event) || !Wants(event)) continue;
    auto& n = std::get<NetworkEvent>(event.body);
    if (WantsAccepted(n) && n.family == AddressFamily::kOther) {
      ++stats_.unknown_accepts;  // dropped: it cannot be told from an AF_UNIX one
      continue;
    }
    if (n.direction == NetworkDirection::kOutbound || (WantsListener(n) && IsInet(n.family))) {
      n.local_unresolved = true;
    } else {
      n.remote_unresolved = true;
    }
    ++stats_.unresolved;
    ++marked;
  }
  return marked;
}

void SocketPorts::FillBatch(EventBatch* events) {
  pending_.clear();
  for (TypedEvent& event : *events) {
    if (Forget(event)) continue;
    const int32_t pid = event.subject.pid;
    NetworkEvent* n = ConnectToLookUp(&event);
    bool accepted = false;
    if (n == nullptr) {
      n = FillLocal(&event);
      if (n == nullptr) continue;
      accepted = true;
    }
    ++stats_.lookups;
    const uint64_t inode = sockets_->InodeOf(pid, accepted ? n->accepted_fd : n->fd);
    if (inode == 0) {
      if (accepted)
        TakeAccepted(nullptr, n);
      else
        TakeConnect(nullptr, n);
    } else if (!sockets_->SameNetns(pid)) {
      // through its /proc/PID/net
      if (accepted)
        FillAccepted(pid, inode, n);
      else
        FillConnect(pid, inode, n);
    } else {
      pending_.push_back(PendingConnect{n, pid, inode, accepted});
    }
  }
  if (pending_.empty()) return;
  // One walk per family and protocol; a connect whose protocol audit did
  // not say is looked for among TCP sockets, then UDP ones.
  found_.clear();
  bool failed = false;
  for (AddressFamily family : {AddressFamily::kInet, AddressFamily::kInet6}) {
    for (NetworkProtocol protocol : {NetworkProtocol::kTcp, NetworkProtocol::kUdp}) {
      inodes_.clear();
      for (const PendingConnect& p : pending_) {
        if (p.event->family != family) continue;
        if (p.event->protocol != NetworkProtocol::kUnknown && p.event->protocol != protocol)
          continue;
        const bool seen = std::any_of(found_.begin(), found_.end(),
                                      [&](const InetSocket& s) { return s.inode == p.inode; });
        if (!seen) inodes_.push_back(p.inode);
      }
      if (inodes_.empty()) continue;
      std::sort(inodes_.begin(), inodes_.end());
      DiagQuery query;
      query.family = family;
      query.protocol = protocol;
      query.states = ~kListening;
      if (!sockets_->FindMany(inodes_, query, &found_).ok()) failed = true;
    }
  }
  for (const PendingConnect& p : pending_) {
    const InetSocket* match = nullptr;
    for (const InetSocket& s : found_)
      if (s.inode == p.inode) match = &s;
    if (match == nullptr && failed) {
      // sock_diag failed: /proc/PID/net
      if (p.accepted)
        FillAccepted(p.pid, p.inode, p.event);
      else
        FillConnect(p.pid, p.inode, p.event);
    } else if (p.accepted) {
      TakeAccepted(match, p.event);
    } else {
      TakeConnect(match, p.event);
    }
  }
}

void SocketPorts::FillListener(int32_t pid, NetworkEvent* n) {
  ++stats_.lookups;
  const uint64_t inode = sockets_->InodeOf(pid, n->fd);
  if (Listener* known = Remembered(pid, n->fd);
      known != nullptr && (inode == 0 || inode == known->inode) &&
      (n->family == AddressFamily::kOther || n->family == known->socket.family)) {
    ++stats_.cache_hits;
    TakeLocal(known->socket, n);
    return;
  }
  if (inode != 0) {
    DiagQuery query;
    query.family = n->family;  // kOther (a listen whose bind was not seen): both
    query.protocol = NetworkProtocol::kTcp;
    query.states = kListening;
    if (std::optional<InetSocket> s = sockets_->Find(pid, inode, query)) {
      ++stats_.found;
      Remember(pid, n->fd, inode, *s);
      TakeLocal(*s, n);
      return;
    }
  }
  // A listen of unknown family that is no TCP listener is most likely a
  // unix socket's: nothing was missed.
  if (IsInet(n->family)) {
    ++stats_.unresolved;
    n->local_unresolved = true;
  }
}

void SocketPorts::FillConnect(int32_t pid, uint64_t inode, NetworkEvent* n) {
  std::optional<InetSocket> found;
  if (inode != 0) {
    DiagQuery query;
    query.family = n->family;
    query.states = ~kListening;
    query.remote_port = n->remote_port;
    for (NetworkProtocol protocol : {NetworkProtocol::kTcp, NetworkProtocol::kUdp}) {
      if (n->protocol != NetworkProtocol::kUnknown && n->protocol != protocol) continue;
      query.protocol = protocol;
      found = sockets_->Find(pid, inode, query);
      if (found) break;
    }
  }
  TakeConnect(found ? &*found : nullptr, n);
}

void SocketPorts::FillAccepted(int32_t pid, uint64_t inode, NetworkEvent* n) {
  std::optional<InetSocket> found;
  if (inode != 0) {
    DiagQuery query;
    query.family = n->family;
    query.protocol = NetworkProtocol::kTcp;
    query.states = ~kListening;
    found = sockets_->Find(pid, inode, query);
  }
  TakeAccepted(found ? &*found : nullptr, n);
}

void SocketPorts::TakeAccepted(const InetSocket* found, NetworkEvent* n) {
  // The descriptor may name another socket since: only one on the
  // listener's port is this accept's.
  if (found != nullptr && (n->local_port < 0 || found->local_port == n->local_port)) {
    ++stats_.found;
    n->remote_address = found->remote_address;
    n->remote_port = found->remote_port;
    if (n->local_port < 0) {
      n->local_address = found->local_address;
      n->local_port = found->local_port;
    }
    return;
  }
  ++stats_.unresolved;
  n->remote_unresolved = true;
}

void SocketPorts::TakeConnect(const InetSocket* found, NetworkEvent* n) {
  // The descriptor may name another socket since (close is not audited):
  // only one connected where the event says is this connect's.
  if (found != nullptr && found->remote_address == n->remote_address &&
      found->remote_port == n->remote_port) {
    ++stats_.found;
    n->protocol = found->protocol;
    n->local_address = found->local_address;
    n->local_port = found->local_port;
    return;
  }
  ++stats_.unresolved;
  n->local_unresolved = true;
}

}  // namespace recorder::enrich
