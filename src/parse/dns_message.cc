#include "parse/dns_message.h"

#include <arpa/inet.h>

#include <array>

namespace recorder::dns {

namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxNameWire = 255;  // RFC 1035 2.3.4
// More hops than a 255-byte name can need: a second guard beside the
// "points before itself" rule.
constexpr int kMaxPointerHops = 128;

uint16_t Get16(std::string_view wire, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(wire[at]) << 8) |
                               static_cast<uint8_t>(wire[at + 1]));
}

uint32_t Get32(std::string_view wire, size_t at) {
  return (static_cast<uint32_t>(Get16(wire, at)) << 16) | Get16(wire, at + 2);
}

Status Corrupt(const char* what, size_t at) {
  return Status::Errorf(StatusCode::kCorrupt, "DNS message: {} at byte {}", what, at);
}

void AppendLabelByte(std::string* out, uint8_t c) {
  if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
    out->push_back(static_cast<char>(c));
    return;
  }
  out->push_back('\\');
  out->push_back(static_cast<char>('0' + c / 100));
  out->push_back(static_cast<char>('0' + c / 10 % 10));
  out->push_back(static_cast<char>('0' + c % 10));
}

// Reads the name at *offset into *name and moves *offset past it (past
// the first pointer, when there is one).
Status ReadName(std::string_view wire, size_t* offset, std::string* name) {
  name->clear();
  size_t at = *offset;
  size_t end_of_name = 0;  // where the caller resumes; set at the first pointer
  size_t wire_length = 1;  // the root's zero byte
  int hops = 0;
  while (true) {
    if (at >= wire.size()) return Corrupt("name runs past the end", at);
    const uint8_t length = static_cast<uint8_t>(wire[at]);
    if ((length & 0xC0) == 0xC0) {
      if (at + 1 >= wire.size()) return Corrupt("name pointer cut short", at);
      const size_t target = Get16(wire, at) & 0x3FFF;
      // Strictly backwards: every hop lowers the position, so no loop.
      if (target >= at) return Corrupt("name pointer does not point backwards", at);
      if (++hops > kMaxPointerHops) return Corrupt("too many name pointers", at);
      if (end_of_name == 0) end_of_name = at + 2;
      at = target;
      continue;
    }
    if ((length & 0xC0) != 0) return Corrupt("reserved label type", at);
    if (length == 0) {
      *offset = end_of_name != 0 ? end_of_name : at + 1;
      return Status::Ok();
    }
    wire_length += length + 1;
    if (wire_length > kMaxNameWire) return Corrupt("name longer than 255 bytes", at);
    if (at + 1 + length > wire.size()) return Corrupt("label runs past the end", at);
    if (!name->empty()) name->push_back('.');
    for (size_t i = 0; i < length; ++i)
      AppendLabelByte(name, static_cast<uint8_t>(wire[at + 1 + i]));
    at += 1 + length;
  }
}

std::string AddressText(int family, std::string_view bytes) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(family, bytes.data(), text.data(), text.size()) == nullptr) return {};
  return text.data();
}

// One resource record at *offset; *offset moves past it.
Status ReadRecord(std::string_view wire, size_t* offset, DnsAnswer* out) {
  Status status = ReadName(wire, offset, &out->name);
  if (!status.ok()) return status;
  size_t at = *offset;
  if (at + 10 > wire.size()) return Corrupt("record header cut short", at);
  out->type = Get16(wire, at);
  out->klass = Get16(wire, at + 2);
  out->ttl = Get32(wire, at + 4);
  const size_t rdlength = Get16(wire, at + 8);
  at += 10;
  if (at + rdlength > wire.size()) return Corrupt("record data runs past the end", at);
  const std::string_view rdata = wire.substr(at, rdlength);
  out->data.clear();
  if (out->type == kTypeA && rdlength == 4) {
    out->data = AddressText(AF_INET, rdata);
  } else if (out->type == kTypeAaaa && rdlength == 16) {
    out->data = AddressText(AF_INET6, rdata);
  } else if (out->type == kTypeCname || out->type == kTypePtr) {
    // The target may point back into the message, so read it against
    // the whole message, and it must end inside its own rdata.
    size_t name_at = at;
    status = ReadName(wire, &name_at, &out->data);
    if (!status.ok()) return status;
    if (name_at > at + rdlength) return Corrupt("record name runs past its data", at);
  }
  *offset = at + rdlength;
  return Status::Ok();
}

}  // namespace

Result<DnsMessage> ParseDnsMessage(std::string_view wire) {
  if (wire.size() < kHeaderSize) return Corrupt("header cut short", wire.size());
  DnsMessage message;
  message.id = Get16(wire, 0);
  const uint16_t flags = Get16(wire, 2);
  message.response = (flags & 0x8000) != 0;
  message.opcode = static_cast<uint8_t>((flags >> 11) & 0xF);
  message.authoritative = (flags & 0x0400) != 0;
  message.truncated = (flags & 0x0200) != 0;
  message.recursion_desired = (flags & 0x0100) != 0;
  message.recursion_available = (flags & 0x0080) != 0;
  message.rcode = flags & 0xF;
  const uint16_t qdcount = Get16(wire, 4);
  const uint16_t ancount = Get16(wire, 6);
  const uint16_t nscount = Get16(wire, 8);
  const uint16_t arcount = Get16(wire, 10);

  size_t offset = kHeaderSize;
  for (uint16_t i = 0; i < qdcount; ++i) {
    DnsQuestion question;
    Status status = ReadName(wire, &offset, &question.name);
    if (!status.ok()) return status;
    if (offset + 4 > wire.size()) return Corrupt("question cut short", offset);
    question.type = Get16(wire, offset);
    question.klass = Get16(wire, offset + 2);
    offset += 4;
    if (message.questions.size() < kMaxQuestions) message.questions.push_back(std::move(question));
  }

  // Answers, then authority and additional only to find EDNS's OPT. A
  // section cut short ends the walk and keeps what was whole.
  DnsAnswer record;
  const uint32_t total = static_cast<uint32_t>(ancount) + nscount + arcount;
  for (uint32_t i = 0; i < total; ++i) {
    if (!ReadRecord(wire, &offset, &record).ok()) break;
    if (i < ancount) {
      ++message.answer_count;
      if (message.answers.size() < kMaxAnswers) message.answers.push_back(record);
    } else if (i >= static_cast<uint32_t>(ancount) + nscount && record.type == kTypeOpt &&
               record.name.empty() && !message.edns) {
      message.edns = true;
      message.edns_udp_size = record.klass;
      // The TTL field's top byte is the upper 8 bits of a 12-bit rcode.
      message.rcode = static_cast<uint16_t>(((record.ttl >> 24) << 4) | message.rcode);
    }
  }
  return message;
}

std::string DnsTypeName(uint16_t type) {
  switch (type) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 35:
      return "NAPTR";
    case 41:
      return "OPT";
    case 43:
      return "DS";
    case 46:
      return "RRSIG";
    case 48:
      return "DNSKEY";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    default:
      return fmt::format("TYPE{}", type);
  }
}

std::string DnsClassName(uint16_t klass) {
  switch (klass) {
    case 1:
      return "IN";
    case 3:
      return "CH";
    case 4:
      return "HS";
    case 255:
      return "ANY";
    default:
      return fmt::format("CLASS{}", klass);
  }
}

std::string DnsRcodeName(uint16_t rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    case 6:
      return "YXDOMAIN";
    case 7:
      return "YXRRSET";
    case 8:
      return "NXRRSET";
    case 9:
      return "NOTAUTH";
    case 10:
      return "NOTZONE";
    case 16:
      return "BADVERS";
    default:
      return fmt::format("RCODE{}", rcode);
  }
}

void DnsTcpStream::Feed(std::string_view bytes) {
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<std::string_view> DnsTcpStream::Next() {
  const std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.size() < 2) return std::nullopt;
  const size_t length = Get16(rest, 0);
  if (rest.size() < 2 + length) return std::nullopt;
  consumed_ += 2 + length;
  return rest.substr(2, length);
}

}  // namespace recorder::dns
