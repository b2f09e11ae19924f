#include "daemon/live_dns.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "enrich/socket_owners.h"
#include "util/clock.h"

namespace recorder::daemon {

namespace {

// Long enough for the exec of a process that resolves a name at once to
// have been read from audit and put in the process table.
constexpr int64_t kDnsHoldMs = 1000;

void AddStats(source::DnsCaptureStats* total, const source::DnsCaptureStats& more) {
  total->packets += more.packets;
  total->lost += more.lost;
  total->dropped += more.dropped;
  total->truncated += more.truncated;
  total->attributed += more.attributed;
  total->unattributed += more.unattributed;
}

// The capture's `attribute`: the sending socket by its local port, then
// its process (enrich/socket_owners.h). One SocketOwners per capture, used
// on its thread only.
std::function<int32_t(const source::CapturedDnsPacket&)> PortAttribution() {
  auto owners = std::make_shared<enrich::SocketOwners>();
  return [owners](const source::CapturedDnsPacket& p) {
    const int64_t now_ms = MonotonicMs();
    return owners->PidOf(p.ipv6 ? AddressFamily::kInet6 : AddressFamily::kInet,
                         p.tcp ? NetworkProtocol::kTcp : NetworkProtocol::kUdp, p.source_address,
                         p.source_port, p.destination_address, p.destination_port, now_ms);
  };
}

}  // namespace

LiveDns::~LiveDns() {
  if (capture_) capture_->Stop();
}

Status LiveDns::Configure(bool enabled, config::DnsCaptureChoice choice, RecordingSink* out,
                          int64_t now_wall) {
  if (!enabled) return Stop(out, now_wall);
  if (capture_ && choice == choice_) return Status::Ok();
  if (capture_) {
    Status stopped = Stop(out, now_wall);
    if (!stopped.ok()) return stopped;
  }
  source::DnsCaptureOptions options = options_;
  if (!options.attribute) options.attribute = PortAttribution();
  options.allow_bpf = choice != config::DnsCaptureChoice::kPacketSocket;
  options.allow_packet_socket = choice != config::DnsCaptureChoice::kCgroupBpf;
  capture_ = std::make_unique<source::DnsCapture>(options);
  choice_ = choice;
  Status started = capture_->Start();
  if (!started.ok()) {
    // Recording goes on without DNS; status says why.
    error_ = started.message();
    capture_.reset();
    spdlog::error("MonitorDNS: DNS is not recorded (dnsCapture {}): {}",
                  config::DnsCaptureChoiceName(choice), error_);
    return Status::Ok();
  }
  error_ = capture_->bpf_error();
  if (capture_->mechanism() == source::DnsCaptureMechanism::kCgroupBpf) {
    spdlog::info("MonitorDNS: recording DNS (cgroup BPF on {})", capture_->cgroup_path());
  } else if (choice == config::DnsCaptureChoice::kPacketSocket) {
    spdlog::info(
        "MonitorDNS: recording DNS with a packet socket (dnsCapture), processes by "
        "their source port");
  } else {
    spdlog::warn(
        "MonitorDNS: recording DNS with a packet socket, processes by their source "
        "port (BPF: {})",
        error_);
  }
  return Status::Ok();
}

Status LiveDns::Stop(RecordingSink* out, int64_t now_wall) {
  if (!capture_) return Status::Ok();
  capture_->Stop();
  Status fed = Feed(out, now_wall, /*all=*/true);
  AddStats(&stats_before_, capture_->stats());
  capture_.reset();
  return fed;
}

DnsPacket JoinerPacket(const source::CapturedDnsPacket& p) {
  DnsPacket packet;
  packet.wall_ms = p.wall_ms;
  packet.mono_ns = p.mono_ns;
  packet.socket_cookie = p.socket_cookie;
  packet.pid = p.pid;
  packet.attribution = p.attributed_by_port ? DnsAttribution::kLocalPort : DnsAttribution::kSocket;
  packet.egress = p.egress;
  packet.transport = p.tcp ? NetworkProtocol::kTcp : NetworkProtocol::kUdp;
  packet.family = p.ipv6 ? AddressFamily::kInet6 : AddressFamily::kInet;
  // Egress: this machine's socket is the source.
  packet.local_address = p.egress ? p.source_address : p.destination_address;
  packet.local_port = p.egress ? p.source_port : p.destination_port;
  packet.remote_address = p.egress ? p.destination_address : p.source_address;
  packet.remote_port = p.egress ? p.destination_port : p.source_port;
  packet.tcp_seq = p.tcp_seq;
  packet.payload = p.payload;
  return packet;
}

void LiveDns::Drain(std::vector<TypedEvent>* ready) {
  if (!capture_) return;
  for (const source::CapturedDnsPacket& p : capture_->Take()) joiner_.Add(JoinerPacket(p), ready);
}

Status LiveDns::Feed(RecordingSink* out, int64_t now_wall, bool all) {
  std::vector<TypedEvent> ready;
  Drain(&ready);
  if (all)
    joiner_.Flush(&ready);
  else
    joiner_.Expire(static_cast<uint64_t>(MonotonicNs()), &ready);
  // Joined events come out in answer order; the hold releases them in
  // that order too (a slow answer holds back nothing but itself).
  for (TypedEvent& e : ready) held_.push_back(std::move(e));
  EventBatch batch;
  while (!held_.empty() && (all || held_.front().header.time_ms <= now_wall - kDnsHoldMs)) {
    batch.push_back(std::move(held_.front()));
    held_.pop_front();
  }
  if (batch.empty()) return Status::Ok();
  out->set_now(now_wall);
  return out->Consume(&batch);
}

DnsStatus LiveDns::status(bool enabled) const {
  DnsStatus s;
  s.enabled = enabled;
  s.choice = choice_;
  s.error = error_;
  s.capture = stats_before_;
  if (capture_) {
    s.mechanism = capture_->mechanism();
    s.attached_to = capture_->cgroup_path();
    AddStats(&s.capture, capture_->stats());
  }
  s.joiner = joiner_.stats();
  s.pending = joiner_.pending();
  s.held = held_.size();
  return s;
}

}  // namespace recorder::daemon
