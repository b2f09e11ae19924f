#include "normalize/dns_joiner.h"

#include <utility>

namespace recorder {

size_t DnsJoiner::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.cookie * 0x9E3779B97F4A7C15ULL;
  h ^= (static_cast<uint64_t>(k.local_port) << 32) | (static_cast<uint64_t>(k.remote_port) << 16) |
       k.id;
  h ^= (static_cast<uint64_t>(k.transport) << 48) ^ (static_cast<uint64_t>(k.egress) << 56);
  h *= 0xBF58476D1CE4E5B9ULL;
  return static_cast<size_t>(h ^ (h >> 31));
}

void DnsJoiner::Add(const DnsPacket& packet, std::vector<TypedEvent>* out) {
  ++stats_.packets;
  if (packet.remote_port != options_.server_port) {
    // A local server's side of the exchange: its client's side is (or
    // was) captured too, from the client's own socket.
    ++stats_.server_side;
    return;
  }
  if (packet.transport == NetworkProtocol::kTcp) {
    AddTcp(packet, out);
    return;
  }
  Message(packet, packet.payload, out);
}

void DnsJoiner::AddTcp(const DnsPacket& packet, std::vector<TypedEvent>* out) {
  if (packet.payload.empty()) return;
  Key key{packet.socket_cookie,
          packet.local_port,
          packet.remote_port,
          0,
          static_cast<uint8_t>(packet.transport),
          packet.egress};
  auto [it, added] = streams_.try_emplace(key);
  Stream* stream = &it->second;
  if (added) {
    if (streams_.size() > options_.max_tcp_streams) {
      ++stats_.tcp_dropped;
      DropStream(stream_lru_.front());
    }
    stream_lru_.push_back(key);
    stream->lru = std::prev(stream_lru_.end());
  } else {
    stream_lru_.splice(stream_lru_.end(), stream_lru_, stream->lru);
  }
  stream->last_ns = packet.mono_ns;
  std::string_view data = packet.payload;
  if (stream->started) {
    // Sequence numbers wrap: compare by signed distance.
    const int32_t ahead = static_cast<int32_t>(packet.tcp_seq - stream->next_seq);
    if (ahead > 0) {
      // Bytes are missing (captured before the monitor started, or
      // lost): the framing cannot be trusted past them.
      ++stats_.tcp_dropped;
      stream->bytes = dns::DnsTcpStream();
    } else if (ahead < 0) {
      // A retransmission: skip what was already taken.
      const size_t seen = static_cast<size_t>(-static_cast<int64_t>(ahead));
      if (seen >= data.size()) return;
      data.remove_prefix(seen);
    }
  }
  stream->started = true;
  stream->next_seq = packet.tcp_seq + static_cast<uint32_t>(packet.payload.size());
  stream->bytes.Feed(data);
  while (std::optional<std::string_view> message = stream->bytes.Next()) {
    const uint64_t malformed_before = stats_.malformed;
    Message(packet, *message, out);
    if (stats_.malformed != malformed_before) {
      ++stats_.tcp_dropped;
      DropStream(key);
      return;
    }
  }
}

void DnsJoiner::DropStream(const Key& key) {
  auto it = streams_.find(key);
  if (it == streams_.end()) return;
  stream_lru_.erase(it->second.lru);
  streams_.erase(it);
}

void DnsJoiner::Message(const DnsPacket& packet, std::string_view wire,
                        std::vector<TypedEvent>* out) {
  Result<dns::DnsMessage> parsed = dns::ParseDnsMessage(wire);
  if (!parsed.ok()) {
    ++stats_.malformed;
    return;
  }
  dns::DnsMessage& message = *parsed;
  const Key key{packet.socket_cookie,
                packet.local_port,
                packet.remote_port,
                message.id,
                static_cast<uint8_t>(packet.transport),
                false};
  if (packet.egress && !message.response) {
    ++stats_.queries;
    if (pending_.contains(key)) {
      ++stats_.duplicate_queries;
      return;
    }
    if (pending_.size() >= options_.max_pending) {
      ++stats_.evicted;
      Unanswered(by_age_.begin()->second, out);
    }
    Pending& p = pending_[key];
    p.sent_ns = packet.mono_ns;
    p.order = next_order_++;
    by_age_.emplace(p.order, key);
    TypedEvent& e = p.event;
    e.header.time_ms = packet.wall_ms;
    e.subject.pid = packet.pid;
    DnsEvent body;
    if (!message.questions.empty()) {
      body.query = std::move(message.questions[0].name);
      body.query_type = message.questions[0].type;
      body.query_class = message.questions[0].klass;
    }
    body.id = message.id;
    body.transport = packet.transport;
    body.family = packet.family;
    body.server_address = std::string(packet.remote_address);
    body.server_port = packet.remote_port;
    body.attribution = packet.pid > 0 ? packet.attribution : DnsAttribution::kNone;
    e.body = std::move(body);
    return;
  }
  if (packet.egress || !message.response) {
    ++stats_.other;
    return;
  }
  auto it = pending_.find(key);
  if (it == pending_.end()) {
    ++stats_.unmatched_responses;
    return;
  }
  ++stats_.answered;
  Pending& p = it->second;
  auto& body = std::get<DnsEvent>(p.event.body);
  body.response_seen = true;
  body.rcode = message.rcode;
  body.latency_us =
      packet.mono_ns >= p.sent_ns ? static_cast<int64_t>((packet.mono_ns - p.sent_ns) / 1000) : 0;
  body.answers.reserve(message.answers.size());
  for (dns::DnsAnswer& a : message.answers)
    body.answers.push_back({std::move(a.name), a.type, a.ttl, std::move(a.data)});
  // The process that read the answer, when the query's was not known.
  if (p.event.subject.pid == 0 && packet.pid > 0) {
    p.event.subject.pid = packet.pid;
    body.attribution = packet.attribution;
  }
  by_age_.erase(p.order);
  out->push_back(std::move(p.event));
  pending_.erase(it);
}

void DnsJoiner::Unanswered(const Key& key, std::vector<TypedEvent>* out) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  ++stats_.unanswered;
  by_age_.erase(it->second.order);
  out->push_back(std::move(it->second.event));
  pending_.erase(it);
}

void DnsJoiner::Expire(uint64_t now_mono_ns, std::vector<TypedEvent>* out) {
  while (!by_age_.empty()) {
    const Key key = by_age_.begin()->second;
    if (pending_.at(key).sent_ns + options_.response_timeout_ns > now_mono_ns) break;
    Unanswered(key, out);
  }
  while (!stream_lru_.empty()) {
    const Key key = stream_lru_.front();
    if (streams_.at(key).last_ns + options_.tcp_idle_ns > now_mono_ns) break;
    DropStream(key);
  }
}

void DnsJoiner::Flush(std::vector<TypedEvent>* out) {
  while (!by_age_.empty()) Unanswered(by_age_.begin()->second, out);
}

}  // namespace recorder
