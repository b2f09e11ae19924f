#include "source/dns_capture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "util/clock.h"
#include "util/take_all.h"

#if RECORDER_DNS_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

// Generated in the build directory by bpftool (CMakeLists.txt).
#include <dns_capture.skel.h>

#include "source/dns_bpf/dns_capture.h"
#endif

namespace recorder::source {

namespace {

constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxPayload = 2048;  // as DNS_CAPTURE_MAX_PAYLOAD

std::string AddressText(bool ipv6, const void* bytes) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text.data(), text.size()) == nullptr) return {};
  return text.data();
}

}  // namespace

std::string_view DnsCaptureMechanismName(DnsCaptureMechanism mechanism) {
  switch (mechanism) {
    case DnsCaptureMechanism::kCgroupBpf:
      return "cgroup-bpf";
    case DnsCaptureMechanism::kPacketSocket:
      return "packet-socket";
    case DnsCaptureMechanism::kNone:
      break;
  }
  return "none";
}

std::string CgroupV2Mount(std::string_view proc_mounts) {
  while (!proc_mounts.empty()) {
    size_t end = proc_mounts.find('\n');
    std::string_view line = proc_mounts.substr(0, end);
    proc_mounts = end == std::string_view::npos ? std::string_view() : proc_mounts.substr(end + 1);
    // "<device> <mount point> <type> ..."; the mount point's spaces are \040.
    size_t first = line.find(' ');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(' ', first + 1);
    if (second == std::string_view::npos) continue;
    size_t third = line.find(' ', second + 1);
    if (line.substr(second + 1, third - second - 1) != "cgroup2") continue;
    std::string mount(line.substr(first + 1, second - first - 1));
    for (size_t at; (at = mount.find("\\040")) != std::string::npos;) mount.replace(at, 4, " ");
    return mount;
  }
  return {};
}

#if RECORDER_DNS_BPF
struct DnsCapture::Bpf {
  dns_capture_bpf* skeleton = nullptr;
  ring_buffer* ring = nullptr;
  ~Bpf() {
    if (ring != nullptr) ring_buffer__free(ring);
    // Destroys the links first: that is the detach.
    if (skeleton != nullptr) dns_capture_bpf__destroy(skeleton);
  }
};

namespace {

// libbpf's messages, kept for the error of a failed load (the verifier's
// reason is in them) instead of going to stderr.
thread_local std::string* libbpf_log = nullptr;

int LibbpfPrint(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || libbpf_log == nullptr) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof(line), format, args);
  if (n > 0 && libbpf_log->size() < 4096) libbpf_log->append(line);
  return 0;
}

}  // namespace
#else
struct DnsCapture::Bpf {};
#endif

DnsCapture::DnsCapture(DnsCaptureOptions options) : options_(std::move(options)) {}

DnsCapture::~DnsCapture() { Stop(); }

Status DnsCapture::Start() {
  if (running()) return Status::Ok();
  stopping_ = false;
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return Status::FromErrno(errno, "eventfd");
  std::string errors;
  if (options_.allow_bpf) {
    Status bpf = StartBpf();
    if (bpf.ok()) {
      mechanism_ = DnsCaptureMechanism::kCgroupBpf;
      bpf_error_.clear();
      thread_ = std::thread([this] { RunBpf(); });
      return Status::Ok();
    }
    bpf_error_ = bpf.message();
    errors = "cgroup BPF: " + bpf.message();
    CloseAll();
    stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd_ < 0) return Status::FromErrno(errno, "eventfd");
  }
  if (options_.allow_packet_socket) {
    Status packet = StartPacketSocket();
    if (packet.ok()) {
      mechanism_ = DnsCaptureMechanism::kPacketSocket;
      thread_ = std::thread([this] { RunPacketSocket(); });
      return Status::Ok();
    }
    errors += (errors.empty() ? "" : "; ") + std::string("packet socket: ") + packet.message();
  }
  CloseAll();
  return Status::Error(StatusCode::kUnavailable,
                       errors.empty() ? "no capture mechanism allowed" : errors);
}

Status DnsCapture::StartBpf() {
#if RECORDER_DNS_BPF
  std::ifstream mounts_file("/proc/mounts");
  std::ostringstream mounts;
  mounts << mounts_file.rdbuf();
  cgroup_path_ = CgroupV2Mount(mounts.str());
  if (cgroup_path_.empty()) return Status::Error(StatusCode::kUnavailable, "no cgroup v2 mount");
  cgroup_fd_ = open(cgroup_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd_ < 0) return Status::FromErrno(errno, cgroup_path_);

  std::string log;
  libbpf_log = &log;
  libbpf_set_print(LibbpfPrint);
  bpf_ = new Bpf;
  auto fail = [&](const char* what, int error) {
    libbpf_log = nullptr;
    std::string text = fmt::format("{}: {}", what, std::strerror(error < 0 ? -error : error));
    // The last line libbpf wrote usually names the program and reason.
    while (!log.empty() && log.back() == '\n') log.pop_back();
    if (size_t nl = log.rfind('\n'); nl != std::string::npos) log.erase(0, nl + 1);
    if (!log.empty()) text += " (" + log + ")";
    return Status::Errorf(
        error == EPERM || error == -EPERM ? StatusCode::kPermission : StatusCode::kUnavailable,
        "{}", text);
  };
  bpf_->skeleton = dns_capture_bpf__open_and_load();
  if (bpf_->skeleton == nullptr) return fail("loading the BPF programs", errno);
  dns_capture_bpf* s = bpf_->skeleton;
  struct Attach {
    bpf_program* program;
    bpf_link** link;
  };
  const Attach attach[] = {
      {s->progs.dns_sock_create, &s->links.dns_sock_create},
      {s->progs.dns_sock_release, &s->links.dns_sock_release},
      {s->progs.dns_connect4, &s->links.dns_connect4},
      {s->progs.dns_connect6, &s->links.dns_connect6},
      {s->progs.dns_sendmsg4, &s->links.dns_sendmsg4},
      {s->progs.dns_sendmsg6, &s->links.dns_sendmsg6},
      {s->progs.dns_egress, &s->links.dns_egress},
      {s->progs.dns_ingress, &s->links.dns_ingress},
  };
  for (const Attach& a : attach) {
    *a.link = bpf_program__attach_cgroup(a.program, cgroup_fd_);
    if (*a.link == nullptr) return fail(bpf_program__name(a.program), errno);
  }
  auto on_event = [](void* context, void* data, size_t size) -> int {
    auto* self = static_cast<DnsCapture*>(context);
    // The record ends after the room for its payload (dns_capture.h).
    if (size < DNS_CAPTURE_HEADER_SIZE) return 0;
    const auto* e = static_cast<const dns_capture_event*>(data);
    CapturedDnsPacket p;
    p.mono_ns = e->mono_ns;
    const int64_t offset = WallNs() - MonotonicNs();
    p.wall_ms = (static_cast<int64_t>(e->mono_ns) + offset) / 1'000'000;
    p.socket_cookie = e->socket_cookie;
    p.pid = static_cast<int32_t>(e->tgid);
    p.egress = e->egress != 0;
    p.tcp = e->protocol == IPPROTO_TCP;
    p.ipv6 = e->family == 6;
    p.source_address = AddressText(p.ipv6, e->saddr);
    p.destination_address = AddressText(p.ipv6, e->daddr);
    p.source_port = e->sport;
    p.destination_port = e->dport;
    p.tcp_seq = e->tcp_seq;
    p.payload_length = e->payload_len;
    const size_t n = std::min<size_t>(
        {e->captured_len, size - DNS_CAPTURE_HEADER_SIZE, DNS_CAPTURE_MAX_PAYLOAD});
    p.payload.assign(reinterpret_cast<const char*>(e->payload), n);
    self->Push(std::move(p));
    return 0;
  };
  bpf_->ring = ring_buffer__new(bpf_map__fd(s->maps.events), on_event, this, nullptr);
  if (bpf_->ring == nullptr) return fail("ring buffer", errno);
  libbpf_log = nullptr;
  return Status::Ok();
#else
  return Status::Error(StatusCode::kUnavailable,
                       "this recorder was built without BPF (-DRECORDER_DNS_BPF=OFF)");
#endif
}

void DnsCapture::RunBpf() {
#if RECORDER_DNS_BPF
  pollfd fds[2] = {{ring_buffer__epoll_fd(bpf_->ring), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!stopping_) {
    if (poll(fds, 2, 200) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) break;
    ring_buffer__consume(bpf_->ring);
  }
  ring_buffer__consume(bpf_->ring);  // what is in at Stop()
#endif
}

// Classic BPF for a SOCK_DGRAM packet socket (the packet starts at the
// network header): IPv4 or IPv6, UDP or TCP, either port 53. IPv4 later
// fragments and IPv6 extension headers are not followed.
Status DnsCapture::StartPacketSocket() {
  packet_fd_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
  if (packet_fd_ < 0) return Status::FromErrno(errno, "socket(AF_PACKET)");
  static sock_filter code[] = {
      // 0: the ethertype
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 10),  // -> 12 (v6?)
      // 2: IPv4: protocol, fragment offset, header length, ports
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 17),  // -> 22 drop
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1FFF, 15, 0),  // -> 22 drop
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kDnsPort, 11, 0),  // -> 21 accept
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kDnsPort, 9, 10),  // -> 21 accept / 22 drop
      // 12: IPv6
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 9),  // -> 22 drop
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, 6),  // -> 22 drop
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kDnsPort, 3, 0),  // -> 21 accept
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 42),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kDnsPort, 1, 2),  // -> 21 / 22
      BPF_STMT(BPF_RET | BPF_K, 0),                         // 20: (unused)
      BPF_STMT(BPF_RET | BPF_K, 0x40000),                   // 21: accept
      BPF_STMT(BPF_RET | BPF_K, 0),                         // 22: drop
  };
  sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
  if (setsockopt(packet_fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof(program)) < 0)
    return Status::FromErrno(errno, "SO_ATTACH_FILTER");
  return Status::Ok();
}

void DnsCapture::RunPacketSocket() {
  std::string buffer(65536, '\0');
  pollfd fds[2] = {{packet_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (!stopping_) {
    if (poll(fds, 2, 200) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    while (true) {
      sockaddr_ll from{};
      socklen_t from_length = sizeof(from);
      ssize_t n = recvfrom(packet_fd_, buffer.data(), buffer.size(), 0,
                           reinterpret_cast<sockaddr*>(&from), &from_length);
      if (n <= 0) break;
      const auto* bytes = reinterpret_cast<const uint8_t*>(buffer.data());
      const size_t length = static_cast<size_t>(n);
      CapturedDnsPacket p;
      p.mono_ns = static_cast<uint64_t>(MonotonicNs());
      p.wall_ms = WallMs();
      p.egress = from.sll_pkttype == PACKET_OUTGOING;
      size_t offset = 0;
      uint8_t protocol = 0;
      if (ntohs(from.sll_protocol) == ETH_P_IP && length >= 20) {
        offset = size_t{bytes[0] & 0xFu} * 4;
        protocol = bytes[9];
        p.source_address = AddressText(false, bytes + 12);
        p.destination_address = AddressText(false, bytes + 16);
      } else if (ntohs(from.sll_protocol) == ETH_P_IPV6 && length >= 40) {
        offset = 40;
        protocol = bytes[6];
        p.ipv6 = true;
        p.source_address = AddressText(true, bytes + 8);
        p.destination_address = AddressText(true, bytes + 24);
      } else {
        continue;
      }
      const size_t transport_header = protocol == IPPROTO_TCP ? 20 : 8;
      if (offset + transport_header > length) continue;
      p.tcp = protocol == IPPROTO_TCP;
      p.source_port = static_cast<uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
      p.destination_port = static_cast<uint16_t>(bytes[offset + 2] << 8 | bytes[offset + 3]);
      size_t data = offset + 8;
      if (p.tcp) {
        p.tcp_seq = static_cast<uint32_t>(bytes[offset + 4]) << 24 |
                    static_cast<uint32_t>(bytes[offset + 5]) << 16 |
                    static_cast<uint32_t>(bytes[offset + 6]) << 8 | bytes[offset + 7];
        data = offset + size_t{static_cast<uint8_t>(bytes[offset + 12] >> 4)} * 4;
        if (data >= length) continue;  // no payload
      }
      if (data > length) continue;
      p.payload_length = static_cast<uint32_t>(length - data);
      p.payload.assign(buffer.data() + data, std::min(length - data, kMaxPayload));
      Push(std::move(p));
    }
  }
}

void DnsCapture::Push(CapturedDnsPacket packet) {
  // A query whose sender is not known: asked now, before the lock (the
  // lookup reads the kernel's tables and /proc) and before the sender
  // can close its socket.
  int attribution = 0;  // 1 named, -1 not
  if (packet.pid == 0 && packet.egress && packet.destination_port == kDnsPort &&
      options_.attribute) {
    packet.pid = options_.attribute(packet);
    packet.attributed_by_port = packet.pid > 0;
    attribution = packet.pid > 0 ? 1 : -1;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.packets;
  if (attribution > 0) ++stats_.attributed;
  if (attribution < 0) ++stats_.unattributed;
  if (packet.payload.size() < packet.payload_length) ++stats_.truncated;
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped;
    return;
  }
  queue_.push_back(std::move(packet));
}

void DnsCapture::Stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  CloseAll();
}

void DnsCapture::CloseAll() {
  delete bpf_;  // detaches and unloads
  bpf_ = nullptr;
  for (int* fd : {&cgroup_fd_, &packet_fd_, &stop_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  mechanism_ = DnsCaptureMechanism::kNone;
}

std::vector<CapturedDnsPacket> DnsCapture::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  return TakeAll(&queue_);
}

DnsCaptureStats DnsCapture::stats() const {
  DnsCaptureStats out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    out = stats_;
  }
#if RECORDER_DNS_BPF
  if (bpf_ != nullptr && bpf_->skeleton != nullptr) {
    const int cpus = libbpf_num_possible_cpus();
    if (cpus > 0) {
      std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
      uint32_t zero = 0;
      if (bpf_map_lookup_elem(bpf_map__fd(bpf_->skeleton->maps.lost), &zero, per_cpu.data()) == 0)
        for (uint64_t n : per_cpu) out.lost += n;
    }
  }
#endif
  return out;
}

}  // namespace recorder::source
