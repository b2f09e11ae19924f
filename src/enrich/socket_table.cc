#include "enrich/socket_table.h"

#include <arpa/inet.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>

namespace recorder::enrich {
namespace {

int SocketFamily(AddressFamily family) {
  return family == AddressFamily::kInet6 ? AF_INET6 : AF_INET;
}

int IpProtocol(NetworkProtocol protocol) {
  return protocol == NetworkProtocol::kUdp ? IPPROTO_UDP : IPPROTO_TCP;
}

// inet_ntop of 4 or 16 address bytes: the text the normalizer gives.
std::string AddressText(AddressFamily family, const void* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(SocketFamily(family), bytes, text, sizeof(text)) == nullptr) return {};
  return text;
}

std::string_view NextField(std::string_view* rest) {
  size_t start = rest->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *rest = {};
    return {};
  }
  size_t end = rest->find(' ', start);
  if (end == std::string_view::npos) end = rest->size();
  std::string_view field = rest->substr(start, end - start);
  *rest = rest->substr(end);
  return field;
}

template <typename T>
bool ParseNumber(std::string_view text, T* value, int base) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value, base);
  return error == std::errc() && end == text.data() + text.size();
}

// "0100007F:0016": the address as the kernel's 32-bit words in hex (each
// in this machine's byte order), a colon, the port in hex.
bool ParseProcAddress(std::string_view text, AddressFamily family, std::string* address,
                      int32_t* port) {
  const size_t words = family == AddressFamily::kInet6 ? 4 : 1;
  if (text.size() != words * 8 + 5 || text[words * 8] != ':') return false;
  uint8_t bytes[16] = {};
  for (size_t i = 0; i < words; ++i) {
    uint32_t word = 0;
    if (!ParseNumber(text.substr(i * 8, 8), &word, 16)) return false;
    std::memcpy(bytes + i * 4, &word, 4);
  }
  uint16_t number = 0;
  if (!ParseNumber(text.substr(words * 8 + 1), &number, 16)) return false;
  *address = AddressText(family, bytes);
  *port = number;
  return !address->empty();
}

}  // namespace

uint64_t ParseSocketLink(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!link.starts_with(kPrefix) || !link.ends_with(']')) return 0;
  uint64_t inode = 0;
  if (!ParseNumber(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1), &inode, 10))
    return 0;
  return inode;
}

std::optional<InetSocket> ParseProcNetLine(std::string_view line, AddressFamily family,
                                           NetworkProtocol protocol) {
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
  InetSocket s;
  s.family = family;
  s.protocol = protocol;
  std::string_view rest = line;
  std::string_view slot = NextField(&rest);
  if (slot.empty() || slot.back() != ':') return std::nullopt;
  if (!ParseProcAddress(NextField(&rest), family, &s.local_address, &s.local_port) ||
      !ParseProcAddress(NextField(&rest), family, &s.remote_address, &s.remote_port))
    return std::nullopt;
  if (!ParseNumber(NextField(&rest), &s.state, 16)) return std::nullopt;
  for (int skip = 0; skip < 5; ++skip) NextField(&rest);
  if (!ParseNumber(NextField(&rest), &s.inode, 10)) return std::nullopt;
  return s;
}

Result<bool> ParseDiagReply(const uint8_t* data, size_t size, NetworkProtocol protocol,
                            std::vector<InetSocket>* out) {
  size_t offset = 0;
  while (size - offset >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, data + offset, sizeof(header));
    if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > size - offset)
      return Status::Errorf("sock_diag: a message of {} bytes in {} left", header.nlmsg_len,
                            size - offset);
    const uint8_t* payload = data + offset + NLMSG_HDRLEN;
    const size_t payload_size = header.nlmsg_len - std::min<size_t>(header.nlmsg_len, NLMSG_HDRLEN);
    if (header.nlmsg_type == NLMSG_DONE) return true;
    if (header.nlmsg_type == NLMSG_ERROR) {
      nlmsgerr error{};
      if (payload_size < sizeof(error.error)) return Status::Error("sock_diag: short error");
      std::memcpy(&error.error, payload, sizeof(error.error));
      if (error.error != 0) return Status::FromErrno(-error.error, "sock_diag");
    } else if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      inet_diag_msg msg;
      if (payload_size < sizeof(msg)) return Status::Error("sock_diag: short inet_diag_msg");
      std::memcpy(&msg, payload, sizeof(msg));
      if (msg.idiag_family == AF_INET || msg.idiag_family == AF_INET6) {
        InetSocket s;
        s.family = msg.idiag_family == AF_INET6 ? AddressFamily::kInet6 : AddressFamily::kInet;
        s.protocol = protocol;
        s.inode = msg.idiag_inode;
        s.state = msg.idiag_state;
        s.local_address = AddressText(s.family, msg.id.idiag_src);
        s.local_port = ntohs(msg.id.idiag_sport);
        s.remote_address = AddressText(s.family, msg.id.idiag_dst);
        s.remote_port = ntohs(msg.id.idiag_dport);
        out->push_back(std::move(s));
      }
    }
    offset += NLMSG_ALIGN(header.nlmsg_len);
    if (offset > size) break;
  }
  return false;
}

std::vector<uint8_t> DiagRequest(const DiagQuery& query, uint32_t sequence) {
  // Sockets on one port: two comparisons per port, GE then LE. Each
  // condition is 8 bytes (the op, then the port in a second op's `no`). A
  // condition that holds jumps `yes` (8) bytes on; one that fails jumps
  // `no` bytes, to four past the end (reject). Reaching the end exactly
  // accepts.
  struct Condition {
    uint8_t code;
    uint16_t port;
  };
  std::vector<Condition> conditions;
  if (query.remote_port >= 0) {
    const auto port = static_cast<uint16_t>(query.remote_port);
    conditions.push_back({INET_DIAG_BC_D_GE, port});
    conditions.push_back({INET_DIAG_BC_D_LE, port});
  }
  if (query.local_port >= 0) {
    const auto port = static_cast<uint16_t>(query.local_port);
    conditions.push_back({INET_DIAG_BC_S_GE, port});
    conditions.push_back({INET_DIAG_BC_S_LE, port});
  }
  std::vector<uint8_t> bytecode;
  const size_t length = conditions.size() * 8;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const inet_diag_bc_op ops[2] = {
        {conditions[i].code, 8, static_cast<uint16_t>(length - i * 8 + 4)},
        {0, 0, conditions[i].port},
    };
    const size_t at = bytecode.size();
    bytecode.resize(at + sizeof(ops));
    std::memcpy(bytecode.data() + at, ops, sizeof(ops));
  }
  const size_t attribute = bytecode.empty() ? 0 : NLA_HDRLEN + NLA_ALIGN(bytecode.size());
  const size_t size = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_req_v2)) + attribute;
  std::vector<uint8_t> message(size, 0);
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(size);
  header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header.nlmsg_seq = sequence;
  std::memcpy(message.data(), &header, sizeof(header));
  inet_diag_req_v2 request{};
  request.sdiag_family = static_cast<uint8_t>(SocketFamily(query.family));
  request.sdiag_protocol = static_cast<uint8_t>(IpProtocol(query.protocol));
  request.idiag_states = query.states;
  std::memcpy(message.data() + NLMSG_HDRLEN, &request, sizeof(request));
  if (!bytecode.empty()) {
    nlattr nla{};
    nla.nla_len = static_cast<uint16_t>(NLA_HDRLEN + bytecode.size());
    nla.nla_type = INET_DIAG_REQ_BYTECODE;
    uint8_t* at = message.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(inet_diag_req_v2));
    std::memcpy(at, &nla, sizeof(nla));
    std::memcpy(at + NLA_HDRLEN, bytecode.data(), bytecode.size());
  }
  return message;
}

KernelSockets::KernelSockets(std::string proc) : proc_(std::move(proc)) {
  char buffer[64];
  const ssize_t n = readlink((proc_ + "/self/ns/net").c_str(), buffer, sizeof(buffer));
  if (n > 0 && static_cast<size_t>(n) < sizeof(buffer))
    own_netns_.assign(buffer, static_cast<size_t>(n));
}

KernelSockets::~KernelSockets() {
  if (diag_fd_ >= 0) close(diag_fd_);
}

uint64_t KernelSockets::InodeOf(int32_t pid, int32_t fd) const {
  if (pid <= 0 || fd < 0) return 0;
  const std::string link = proc_ + "/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  char buffer[64];
  const ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer));
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buffer)) return 0;
  return ParseSocketLink(std::string_view(buffer, static_cast<size_t>(n)));
}

bool KernelSockets::SameNetns(int32_t pid) const {
  if (own_netns_.empty()) return false;
  char buffer[64];
  const std::string link = proc_ + "/" + std::to_string(pid) + "/ns/net";
  const ssize_t n = readlink(link.c_str(), buffer, sizeof(buffer));
  return n > 0 && std::string_view(buffer, static_cast<size_t>(n)) == own_netns_;
}

template <typename Take>
Status KernelSockets::Dump(const DiagQuery& query, Take take) {
  ++stats_.diag_dumps;
  if (diag_fd_ < 0) {
    diag_fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (diag_fd_ < 0) return Status::FromErrno(errno, "socket(NETLINK_SOCK_DIAG)");
    // The kernel always answers; should it not, the lookup fails (then
    // /proc/PID/net is read) rather than holding its thread.
    timeval limit{};
    limit.tv_sec = 2;
    setsockopt(diag_fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  }
  const std::vector<uint8_t> request = DiagRequest(query, ++sequence_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(diag_fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) < 0) {
    const int error = errno;
    close(diag_fd_);
    diag_fd_ = -1;
    return Status::FromErrno(error, "sock_diag request");
  }
  buffer_.resize(size_t{64} * 1024);
  while (true) {
    const ssize_t n = recv(diag_fd_, buffer_.data(), buffer_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EPIPE;
      // A reply left half read would be taken for the next one's.
      close(diag_fd_);
      diag_fd_ = -1;
      return Status::FromErrno(error, "sock_diag reply");
    }
    scratch_.clear();
    Result<bool> done =
        ParseDiagReply(buffer_.data(), static_cast<size_t>(n), query.protocol, &scratch_);
    for (InetSocket& s : scratch_) take(std::move(s));
    if (!done.ok()) {
      close(diag_fd_);
      diag_fd_ = -1;
      return done.status();
    }
    if (*done) return Status::Ok();
  }
}

Status KernelSockets::FindMany(const std::vector<uint64_t>& inodes, const DiagQuery& query,
                               std::vector<InetSocket>* out) {
  if (inodes.empty()) return Status::Ok();
  Status dumped = Dump(query, [&](InetSocket&& s) {
    if (std::binary_search(inodes.begin(), inodes.end(), s.inode)) out->push_back(std::move(s));
  });
  if (!dumped.ok()) ++stats_.diag_failures;
  return dumped;
}

Status KernelSockets::List(const DiagQuery& query, std::vector<InetSocket>* out) {
  Status dumped = Dump(query, [&](InetSocket&& s) { out->push_back(std::move(s)); });
  if (!dumped.ok()) ++stats_.diag_failures;
  return dumped;
}

std::optional<InetSocket> KernelSockets::ReadProcNet(int32_t pid, uint64_t inode,
                                                     const DiagQuery& query) {
  ++stats_.proc_net_reads;
  const char* name = query.protocol == NetworkProtocol::kUdp ? "udp" : "tcp";
  const std::string path = proc_ + "/" + std::to_string(pid) + "/net/" + name +
                           (query.family == AddressFamily::kInet6 ? "6" : "");
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::optional<InetSocket> s = ParseProcNetLine(line, query.family, query.protocol);
    if (s && s->inode == inode && (query.states & (1u << (s->state & 31))) != 0) return s;
  }
  return std::nullopt;
}

std::optional<InetSocket> KernelSockets::Find(int32_t pid, uint64_t inode, const DiagQuery& query) {
  if (inode == 0) return std::nullopt;
  if (query.family == AddressFamily::kOther) {
    DiagQuery each = query;
    for (AddressFamily family : {AddressFamily::kInet, AddressFamily::kInet6}) {
      each.family = family;
      if (std::optional<InetSocket> s = Find(pid, inode, each)) return s;
    }
    return std::nullopt;
  }
  // sock_diag answers for our own network namespace only; a process in
  // another one (a container) is read through its /proc/PID/net.
  if (SameNetns(pid)) {
    std::optional<InetSocket> found;
    Status dumped = Dump(query, [&](InetSocket&& s) {
      if (s.inode == inode) found = std::move(s);
    });
    if (dumped.ok()) return found;
    ++stats_.diag_failures;
  }
  return ReadProcNet(pid, inode, query);
}

}  // namespace recorder::enrich
