// DNS queries joined to their answers: the pure core of the DNS monitor.
// The capture (source/dns_capture.h) hands every packet to or from a DNS
// server port with its socket and process; this parses the DNS message
// (parse/dns_message.h), reassembles DNS over TCP, and pairs each query a
// process sent with the response its socket received — by (socket, ports,
// transport, DNS id) — into one DnsEvent with the latency. A query with
// no response within the timeout becomes an event without one.
//
// Only the client's side is kept: a packet is the client's when its
// remote port is the server port. A name server on this machine (dnsmasq,
// systemd-resolved) shows as its own client for its upstream queries, and
// the processes that asked it as clients of it, so both are recorded.
//
// Bounded: at most max_pending queries wait (the oldest is then emitted
// unanswered, counted) and max_tcp_streams TCP directions are buffered
// (least recently used dropped, counted). Time is passed in: `mono_ns`
// for latency and timeouts (the capture's monotonic clock), `wall_ms` for
// the row. Not thread-safe; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "normalize/typed_event.h"
#include "parse/dns_message.h"

namespace recorder {

// One packet's transport payload and where it went.
struct DnsPacket {
  int64_t wall_ms = 0;
  uint64_t mono_ns = 0;
  uint64_t socket_cookie = 0;  // 0 when the capture cannot tell the socket
  int32_t pid = 0;             // the socket's process (thread group); 0 = unknown
  // How pid was found (DnsEvent::attribution); ignored when pid is 0.
  DnsAttribution attribution = DnsAttribution::kSocket;
  bool egress = false;  // sent by this machine's socket
  NetworkProtocol transport = NetworkProtocol::kUdp;
  AddressFamily family = AddressFamily::kInet;
  std::string_view local_address;  // text ("127.0.0.1", "::1")
  uint16_t local_port = 0;
  std::string_view remote_address;
  uint16_t remote_port = 0;
  uint32_t tcp_seq = 0;      // TCP: the segment's sequence number
  std::string_view payload;  // UDP payload or TCP segment data
};

struct DnsJoinerOptions {
  uint64_t response_timeout_ns = 5'000'000'000;  // then "no response"
  uint64_t tcp_idle_ns = 30'000'000'000;         // a TCP direction's buffer is dropped
  size_t max_pending = 4096;
  size_t max_tcp_streams = 256;
  uint16_t server_port = 53;
};

struct DnsJoinerStats {
  uint64_t packets = 0;
  uint64_t queries = 0;
  uint64_t answered = 0;
  uint64_t unanswered = 0;           // timed out or flushed
  uint64_t evicted = 0;              // unanswered because max_pending was reached
  uint64_t unmatched_responses = 0;  // a response to no query seen (or already answered)
  uint64_t duplicate_queries = 0;    // same socket and id while one waits (a retry)
  uint64_t malformed = 0;
  uint64_t server_side = 0;  // a local server's own traffic: skipped
  uint64_t tcp_dropped = 0;  // TCP buffers dropped for a gap, a bad message or the bound
  uint64_t other = 0;        // a query received or a response sent by a client port
};

class DnsJoiner {
 public:
  explicit DnsJoiner(DnsJoinerOptions options = {}) : options_(options) {}

  // Events finished by this packet are appended to *out.
  void Add(const DnsPacket& packet, std::vector<TypedEvent>* out);
  // Queries older than the timeout become events without a response;
  // idle TCP buffers are dropped.
  void Expire(uint64_t now_mono_ns, std::vector<TypedEvent>* out);
  // Every waiting query, now (at shutdown).
  void Flush(std::vector<TypedEvent>* out);

  size_t pending() const { return pending_.size(); }
  size_t tcp_streams() const { return streams_.size(); }
  const DnsJoinerStats& stats() const { return stats_; }

 private:
  struct Key {
    uint64_t cookie = 0;
    uint16_t local_port = 0;
    uint16_t remote_port = 0;
    uint16_t id = 0;
    uint8_t transport = 0;
    bool egress = false;  // streams only: which direction
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Pending {
    TypedEvent event;
    uint64_t sent_ns = 0;
    uint64_t order = 0;
  };
  struct Stream {
    dns::DnsTcpStream bytes;
    uint32_t next_seq = 0;
    bool started = false;
    uint64_t last_ns = 0;
    std::list<Key>::iterator lru;
  };

  void Message(const DnsPacket& packet, std::string_view wire, std::vector<TypedEvent>* out);
  void AddTcp(const DnsPacket& packet, std::vector<TypedEvent>* out);
  void Unanswered(const Key& key, std::vector<TypedEvent>* out);
  void DropStream(const Key& key);

  DnsJoinerOptions options_;
  DnsJoinerStats stats_;
  std::unordered_map<Key, Pending, KeyHash> pending_;
  std::map<uint64_t, Key> by_age_;  // order -> pending key, oldest first
  uint64_t next_order_ = 0;
  std::unordered_map<Key, Stream, KeyHash> streams_;
  std::list<Key> stream_lru_;  // least recently used first
};

}  // namespace recorder
