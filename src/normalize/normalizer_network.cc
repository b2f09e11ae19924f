#include <algorithm>
#include <string>
#include <string_view>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

// Socket syscalls: socket() transports and bind() addresses remembered by
// (pid, fd), so later listen/accept/connect events are complete.
namespace recorder {

Normalizer::State::SocketInfo* Normalizer::State::FindSocket(uint64_t key) {
  auto it = socket_index.find(key);
  if (it == socket_index.end()) return nullptr;
  sockets.splice(sockets.begin(), sockets, it->second);
  return &it->second->second;
}

Normalizer::State::SocketInfo& Normalizer::State::TouchSocket(uint64_t key) {
  if (SocketInfo* found = FindSocket(key)) return *found;
  sockets.emplace_front(key, SocketInfo{});
  socket_index[key] = sockets.begin();
  const size_t cap = std::max<size_t>(options.max_tracked_sockets, 1);
  while (sockets.size() > cap) {
    socket_index.erase(sockets.back().first);
    sockets.pop_back();
  }
  return sockets.front().second;
}

bool Normalizer::State::NetworkEventFor(const AuditEvent& event, SyscallClass klass,
                                        const uint64_t* args, TypedEvent& base) {
  using C = SyscallClass;
  const uint64_t pid = static_cast<uint32_t>(base.subject.pid);
  auto key_for = [&](uint64_t fd) { return pid << 32 | static_cast<uint32_t>(fd); };

  if (klass == C::kSocket) {
    // socket(domain, type, protocol) -> fd: remember the transport so a
    // later connect/bind on the fd can name it. Nothing to store itself.
    if (!base.header.success || base.header.exit < 0) return false;
    const uint64_t domain = args[0];
    const uint64_t type = args[1] & 0xf;  // SOCK_NONBLOCK/SOCK_CLOEXEC above
    if (domain != 2 && domain != 10) return false;
    const NetworkProtocol protocol = type == 1   ? NetworkProtocol::kTcp
                                     : type == 2 ? NetworkProtocol::kUdp
                                                 : NetworkProtocol::kUnknown;
    if (protocol == NetworkProtocol::kUnknown) return false;
    TouchSocket(key_for(static_cast<uint64_t>(base.header.exit))).protocol = protocol;
    return false;
  }

  std::optional<SocketAddress> addr;
  if (const AuditRecord* sa = event.Find(audit_type::kSockaddr)) {
    auto decoded_addr = DecodeSockaddr(sa->Value("saddr"));
    if (decoded_addr.ok()) addr = std::move(decoded_addr.value());
  }
  const bool keep_unix = options.keep_unix_sockets;

  NetworkEvent& n = ResetBody<NetworkEvent>(&base.body);
  switch (klass) {
    case C::kBind: {
      // Remembered, not stored: a bound socket only serves once it
      // listens (TCP), and the listen event carries the address.
      if (!base.header.success || !addr || addr->family == AddressFamily::kOther) return false;
      SocketInfo& info = TouchSocket(key_for(args[0]));
      info.bound = true;
      info.address = std::move(*addr);
      // Port 0 asks the kernel for an ephemeral port, which audit never
      // reports: the real port is unknown, not 0.
      if (info.address.port == 0 && info.address.family != AddressFamily::kUnix)
        info.address.port = -1;
      return false;
    }
    case C::kListen: {
      SocketInfo* info = FindSocket(key_for(args[0]));
      n.direction = NetworkDirection::kListen;
      n.fd = static_cast<int32_t>(args[0]);
      n.protocol = NetworkProtocol::kTcp;  // listen(2) exists for stream sockets only
      if (info != nullptr && info->bound) {
        if (info->address.family == AddressFamily::kUnix && !keep_unix) return false;
        n.family = info->address.family;
        n.local_address = info->address.address;
        n.local_port = info->address.port;
        if (info->address.family == AddressFamily::kUnix) n.protocol = NetworkProtocol::kUnknown;
      }
      break;
    }
    case C::kAccept: {
      // A failed accept (EAGAIN on a non-blocking listener) accepted nothing.
      if (!base.header.success) return false;
      n.direction = NetworkDirection::kInbound;
      n.fd = static_cast<int32_t>(args[0]);
      n.protocol = NetworkProtocol::kTcp;
      SocketInfo* listener = FindSocket(key_for(args[0]));
      AddressFamily family = AddressFamily::kOther;
      if (addr && addr->family != AddressFamily::kOther) {
        family = addr->family;
        n.remote_address = addr->address;
        n.remote_port = addr->port;
      }
      if (listener != nullptr && listener->bound &&
          (family == AddressFamily::kOther || family == listener->address.family)) {
        family = listener->address.family;
        n.local_address = listener->address.address;
        n.local_port = listener->address.port;
      }
      if (family == AddressFamily::kUnix) {
        if (!keep_unix) return false;
        n.protocol = NetworkProtocol::kUnknown;
      }
      if (base.header.exit >= 0) n.accepted_fd = static_cast<int32_t>(base.header.exit);
      // accept(fd, NULL, NULL) on a listener bound before recording began:
      // no address on either side, and most such listeners are AF_UNIX
      // (the rules cannot tell them apart). Only a live lookup can say
      // (NormalizerOptions::keep_unaddressed_accepts).
      if (family == AddressFamily::kOther)
        return options.keep_unaddressed_accepts && n.accepted_fd >= 0;
      n.family = family;
      break;
    }
    case C::kConnect: {
      if (!addr || addr->family == AddressFamily::kOther) return false;  // AF_UNSPEC, netlink
      if (addr->family == AddressFamily::kUnix && !keep_unix) return false;
      n.direction = NetworkDirection::kOutbound;
      n.fd = static_cast<int32_t>(args[0]);
      n.family = addr->family;
      n.remote_address = std::move(addr->address);
      n.remote_port = addr->port;
      // Audit does not say whether the socket is TCP or UDP; an audited
      // socket() on this fd does.
      // close() is not audited, so the fd may since name another socket:
      // what is remembered must at least be of the same family.
      if (SocketInfo* info = FindSocket(key_for(args[0]))) {
        n.protocol = info->protocol;
        if (info->bound && info->address.family == addr->family) {
          n.local_address = info->address.address;
          n.local_port = info->address.port;
        }
      }
      n.in_progress = !base.header.success && base.header.exit == kEinprogress;
      break;
    }
    default:
      return false;
  }
  return true;
}

}  // namespace recorder
