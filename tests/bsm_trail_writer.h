// Encodes BSM audit trails for the tests: each token as audit.log(5) lays
// it out (big-endian integers, ports and addresses in network order), a
// record's header and trailer sized from what is between them. The values
// the tests later compare field by field are the ones given here.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace recorder::bsm::testing {

class TrailWriter {
 public:
  // Starts a record: a 32-bit header (or 64-bit with `wide`), version 11.
  TrailWriter& Begin(uint16_t event, uint32_t seconds, uint32_t millis, bool wide = false) {
    record_.clear();
    event_ = event;
    seconds_ = seconds;
    millis_ = millis;
    wide_ = wide;
    return *this;
  }
  TrailWriter& Subject32(uint32_t auid, uint32_t euid, uint32_t egid, uint32_t ruid, uint32_t rgid,
                         uint32_t pid, uint32_t sid, uint32_t port, uint32_t ipv4) {
    Byte(0x24);
    for (uint32_t v : {auid, euid, egid, ruid, rgid, pid, sid, port, ipv4}) U32(v);
    return *this;
  }
  // A 64-bit terminal port and an extended (IPv6) terminal address.
  TrailWriter& Subject64Ex(uint32_t auid, uint32_t euid, uint32_t egid, uint32_t ruid,
                           uint32_t rgid, uint32_t pid, uint32_t sid, uint64_t port,
                           std::string_view ipv6_16_bytes) {
    Byte(0x7c);
    for (uint32_t v : {auid, euid, egid, ruid, rgid, pid, sid}) U32(v);
    U64(port);
    U32(16);
    record_.append(ipv6_16_bytes);
    return *this;
  }
  TrailWriter& Process32(uint32_t auid, uint32_t euid, uint32_t pid) {
    Byte(0x26);
    for (uint32_t v : {auid, euid, 0u, euid, 0u, pid, 0u, 0u, 0u}) U32(v);
    return *this;
  }
  TrailWriter& Return32(uint8_t error, uint32_t value) {
    Byte(0x27);
    Byte(error);
    U32(value);
    return *this;
  }
  TrailWriter& Return64(uint8_t error, uint64_t value) {
    Byte(0x72);
    Byte(error);
    U64(value);
    return *this;
  }
  TrailWriter& Path(std::string_view path) { return Counted(0x23, path); }
  TrailWriter& Text(std::string_view text) { return Counted(0x28, text); }
  TrailWriter& Zonename(std::string_view name) { return Counted(0x60, name); }
  TrailWriter& Arg32(uint8_t number, uint32_t value, std::string_view text) {
    Byte(0x2d);
    Byte(number);
    U32(value);
    return CountedBody(text);
  }
  TrailWriter& ExecArgs(std::initializer_list<std::string_view> args) {
    return Strings(0x3c, args);
  }
  TrailWriter& ExecEnv(std::initializer_list<std::string_view> env) { return Strings(0x3d, env); }
  TrailWriter& Attr32(uint32_t mode, uint32_t uid, uint32_t gid, uint64_t inode, uint32_t dev) {
    Byte(0x3e);
    for (uint32_t v : {mode, uid, gid, 1u}) U32(v);
    U64(inode);
    U32(dev);
    return *this;
  }
  TrailWriter& Attr64(uint32_t mode, uint32_t uid, uint32_t gid, uint64_t inode, uint64_t dev) {
    Byte(0x73);
    for (uint32_t v : {mode, uid, gid, 1u}) U32(v);
    U64(inode);
    U64(dev);
    return *this;
  }
  TrailWriter& Exit(uint32_t status, uint32_t value) {
    Byte(0x52);
    U32(status);
    U32(value);
    return *this;
  }
  TrailWriter& SockInet32(uint16_t family, uint16_t port, uint32_t ipv4) {
    Byte(0x80);
    U16(family);
    U16(port);
    U32(ipv4);
    return *this;
  }
  TrailWriter& SockInet128(uint16_t family, uint16_t port, std::string_view ipv6_16_bytes) {
    Byte(0x81);
    U16(family);
    U16(port);
    record_.append(ipv6_16_bytes);
    return *this;
  }
  TrailWriter& SockUnix(uint16_t family, std::string_view path) {
    Byte(0x82);
    U16(family);
    record_.append(path);
    Byte(0);
    return *this;
  }
  TrailWriter& SocketEx32(uint16_t domain, uint16_t type, uint16_t local_port, uint32_t local,
                          uint16_t remote_port, uint32_t remote) {
    Byte(0x7f);
    U16(domain);
    U16(type);
    U16(4);
    U16(local_port);
    U32(local);
    U16(remote_port);
    U32(remote);
    return *this;
  }
  TrailWriter& Opaque(std::string_view bytes) { return Counted(0x29, bytes, false); }
  // Any bytes, e.g. a token this reader does not know.
  TrailWriter& Raw(std::string_view bytes) {
    record_.append(bytes);
    return *this;
  }
  // Closes the record: header, tokens, trailer, appended to the trail.
  TrailWriter& End() {
    const uint32_t header_bytes = wide_ ? 26 : 18;
    const uint32_t size = header_bytes + static_cast<uint32_t>(record_.size()) + 7;
    std::string tokens = std::move(record_);
    record_.clear();
    Byte(wide_ ? 0x74 : 0x14);
    U32(size);
    Byte(11);
    U16(event_);
    U16(0);
    if (wide_) {
      U64(seconds_);
      U64(millis_);
    } else {
      U32(seconds_);
      U32(millis_);
    }
    record_ += tokens;
    Byte(0x13);
    U16(0xb105);
    U32(size);
    trail_ += record_;
    record_.clear();
    return *this;
  }
  // A file token, as auditd writes at the start and end of a trail file.
  TrailWriter& FileToken(uint32_t seconds, std::string_view name) {
    std::string saved = std::move(record_);
    record_.clear();
    Byte(0x11);
    U32(seconds);
    U32(0);
    CountedBody(name);
    trail_ += record_;
    record_ = std::move(saved);
    return *this;
  }
  const std::string& trail() const { return trail_; }

  static uint32_t Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
  }

 private:
  void Byte(uint8_t v) { record_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) {
    Byte(static_cast<uint8_t>(v >> 8));
    Byte(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void U64(uint64_t v) {
    U32(static_cast<uint32_t>(v >> 32));
    U32(static_cast<uint32_t>(v));
  }
  TrailWriter& CountedBody(std::string_view text, bool nul = true) {
    U16(static_cast<uint16_t>(text.size() + (nul ? 1 : 0)));
    record_.append(text);
    if (nul) Byte(0);
    return *this;
  }
  TrailWriter& Counted(uint8_t id, std::string_view text, bool nul = true) {
    Byte(id);
    return CountedBody(text, nul);
  }
  TrailWriter& Strings(uint8_t id, std::initializer_list<std::string_view> strings) {
    Byte(id);
    U32(static_cast<uint32_t>(strings.size()));
    for (std::string_view s : strings) {
      record_.append(s);
      Byte(0);
    }
    return *this;
  }

  std::string trail_;
  std::string record_;
  uint16_t event_ = 0;
  uint32_t seconds_ = 0;
  uint32_t millis_ = 0;
  bool wide_ = false;
};

}  // namespace recorder::bsm::testing
