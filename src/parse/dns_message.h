// DNS wire format (RFC 1035, EDNS(0) of RFC 6891) from outside input: the
// bytes a process sent to or received from a name server, as the DNS
// monitor captured them. Safe on hostile input: every read is bounds
// checked; a compression pointer must point before itself (which rules
// out loops and forward pointers) and a name is at most 255 bytes; counts
// in the header are never trusted beyond the bytes that are there.
// Unknown record types are kept as their numbers.
//
// Pure: no state, no allocation beyond the returned message (names and
// answers are copied once: they outlive the packet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace recorder::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;

// Kept per message: the rest of a huge answer is counted, not kept.
// kMaxAnswers is above what a captured answer can hold (2048 bytes, 11
// the shortest record): every answer the capture saw is kept; the bound
// is for a message from elsewhere (a Sysmon event's QueryResults).
inline constexpr size_t kMaxQuestions = 4;
inline constexpr size_t kMaxAnswers = 256;

struct DnsQuestion {
  std::string name;  // dotted, no trailing dot ("" for the root); see ParseDnsMessage
  uint16_t type = 0;
  uint16_t klass = 0;
  bool operator==(const DnsQuestion&) const = default;
};

struct DnsAnswer {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  // A and AAAA: the address as text; CNAME and PTR: the target name;
  // other types: empty (the type number says what it was).
  std::string data;
  bool operator==(const DnsAnswer&) const = default;
};

struct DnsMessage {
  uint16_t id = 0;
  bool response = false;   // QR
  uint8_t opcode = 0;      // 0 = QUERY
  bool truncated = false;  // TC: the answer did not fit (UDP)
  bool authoritative = false;
  bool recursion_desired = false;
  bool recursion_available = false;
  uint16_t rcode = 0;                  // with EDNS(0)'s upper 8 bits when an OPT record has them
  std::vector<DnsQuestion> questions;  // at most kMaxQuestions
  std::vector<DnsAnswer> answers;      // answer section, at most kMaxAnswers
  uint16_t answer_count = 0;           // ANCOUNT as parsed (>= answers.size())
  bool edns = false;                   // an OPT record was in the additional section
  uint16_t edns_udp_size = 0;
};

// Parses one DNS message (no TCP length prefix). Names are dotted with
// no trailing dot; a label byte that is a dot, a backslash or not
// printable ASCII is written \DDD (as dig does), so a name is always
// readable text and never ambiguous. Errors (code kCorrupt) say where the
// message is bad. A message whose answer or additional section is cut
// short still parses when its header and questions are whole: what was
// whole is kept and `answers` stops where the bytes did.
Result<DnsMessage> ParseDnsMessage(std::string_view wire);

// "A", "AAAA", "CNAME"...; "TYPE<n>" for a number without a name.
std::string DnsTypeName(uint16_t type);
// "IN", "CH", "HS", "ANY"; "CLASS<n>" otherwise.
std::string DnsClassName(uint16_t klass);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"...;
// "RCODE<n>" otherwise.
std::string DnsRcodeName(uint16_t rcode);

// DNS over TCP (RFC 1035 4.2.2): each message follows a 2-byte length.
// Feed the bytes of one direction of one connection in order, then take
// the whole messages; a message split over several segments comes out
// once its last byte is in. Bounded: at most one message (64 KiB) plus
// its prefix is held.
class DnsTcpStream {
 public:
  void Feed(std::string_view bytes);
  // The next whole message (without its prefix), valid until the next
  // Feed or Next; nullopt when none is complete yet.
  std::optional<std::string_view> Next();
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

}  // namespace recorder::dns
