// The DNS monitor's capture (MonitorDNS): every UDP/TCP packet to or from
// port 53 on this machine, with the socket and process it belongs to,
// read on a thread of its own. Two mechanisms, the first that starts:
//
//   kCgroupBpf: BPF programs on the cgroup v2 root (source/dns_bpf/):
//     socket hooks map each inet socket to the process that created,
//     connected or sent on it; cgroup_skb ingress/egress copy port-53
//     packets into a ring buffer with the socket's cookie and process.
//     No kprobes or fentry needed. The programs are attached through BPF
//     links held only by this process: Stop() (or the process's death)
//     detaches them; nothing is pinned.
//   kPacketSocket: where BPF cannot load (no cgroup v2, no BPF, no
//     permission): an AF_PACKET socket with a classic BPF filter on port
//     53. The packets are the same; the process is not in them (pid 0).
//
// A query leaving a socket the capture cannot name (every one of the
// packet socket's; BPF's for a socket created before the programs were
// attached) is given to DnsCaptureOptions::attribute at once, on the
// capture's thread, while the sender likely still holds its socket: the
// daemon looks the sending socket up by its local port there
// (enrich/socket_owners.h). What it cannot find stays pid 0, never
// guessed.
//
// Packets are handed over by Take() through a bounded queue; what does
// not fit is counted (dropped), like packets the kernel's ring buffer had
// no room for (lost).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/status.h"

namespace recorder::source {

enum class DnsCaptureMechanism : uint8_t { kNone, kCgroupBpf, kPacketSocket };
// "none", "cgroup-bpf", "packet-socket": for status and logs.
std::string_view DnsCaptureMechanismName(DnsCaptureMechanism mechanism);

struct CapturedDnsPacket {
  int64_t wall_ms = 0;              // the capture's monotonic time moved to the wall clock
  uint64_t mono_ns = 0;             // CLOCK_MONOTONIC
  uint64_t socket_cookie = 0;       // 0: not known (packet socket)
  int32_t pid = 0;                  // the socket's process; 0 = not known
  bool attributed_by_port = false;  // pid came from DnsCaptureOptions::attribute
  bool egress = false;              // leaving this machine's socket
  bool tcp = false;                 // else UDP
  bool ipv6 = false;
  std::string source_address;  // text
  uint16_t source_port = 0;
  std::string destination_address;
  uint16_t destination_port = 0;
  uint32_t tcp_seq = 0;
  uint32_t payload_length = 0;  // the full payload's length (payload may be cut)
  std::string payload;
};

struct DnsCaptureOptions {
  // Tried in order; kCgroupBpf then kPacketSocket by default.
  bool allow_bpf = true;
  bool allow_packet_socket = true;
  size_t queue_capacity = 16384;  // packets not yet taken; more are dropped (counted)
  // The pid of the process that sent `packet` (an outgoing query with no
  // pid), or 0. Called on the capture's thread only; may be empty.
  std::function<int32_t(const CapturedDnsPacket& packet)> attribute;
};

struct DnsCaptureStats {
  uint64_t packets = 0;
  uint64_t lost = 0;          // the kernel ring buffer was full
  uint64_t dropped = 0;       // our queue was full
  uint64_t truncated = 0;     // payload longer than the capture copies
  uint64_t attributed = 0;    // queries without pid that `attribute` named
  uint64_t unattributed = 0;  // ... that it could not
};

class DnsCapture {
 public:
  explicit DnsCapture(DnsCaptureOptions options = {});
  ~DnsCapture();  // Stop()s
  DnsCapture(const DnsCapture&) = delete;
  DnsCapture& operator=(const DnsCapture&) = delete;

  // Starts the first mechanism that works; the error names why each
  // failed. Returns at once when already running.
  Status Start();
  // Detaches the programs, closes everything; safe to call twice.
  void Stop();
  bool running() const { return thread_.joinable(); }
  DnsCaptureMechanism mechanism() const { return mechanism_; }
  // Why BPF was not used when the packet socket runs; empty otherwise.
  const std::string& bpf_error() const { return bpf_error_; }
  // The cgroup v2 mount the programs are attached to (kCgroupBpf).
  const std::string& cgroup_path() const { return cgroup_path_; }

  // Packets since the last call, oldest first. Thread-safe.
  std::vector<CapturedDnsPacket> Take();
  DnsCaptureStats stats() const;

 private:
  struct Bpf;
  Status StartBpf();
  Status StartPacketSocket();
  void RunBpf();
  void RunPacketSocket();
  void Push(CapturedDnsPacket packet);
  void CloseAll();

  DnsCaptureOptions options_;
  DnsCaptureMechanism mechanism_ = DnsCaptureMechanism::kNone;
  std::string bpf_error_;
  std::string cgroup_path_;
  Bpf* bpf_ = nullptr;  // owned; the skeleton and its links
  int cgroup_fd_ = -1;
  int packet_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the thread for Stop()
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<CapturedDnsPacket> queue_;  // guarded by mutex_
  DnsCaptureStats stats_;                // guarded by mutex_
};

// The mount point of the cgroup v2 hierarchy in /proc/mounts-format text
// (the first "cgroup2" line); empty when there is none.
std::string CgroupV2Mount(std::string_view proc_mounts);

}  // namespace recorder::source
