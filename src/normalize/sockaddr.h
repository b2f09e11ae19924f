// Decoding the SOCKADDR record's saddr= (a struct sockaddr as hex).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder {

enum class SocketFamily : uint8_t {
  kOther,  // AF_NETLINK, AF_PACKET, AF_UNSPEC, ...: not stored
  kInet,
  kInet6,
  kUnix,
};

// "ipv4", "ipv6", "unix"; empty for kOther.
std::string_view SocketFamilyName(SocketFamily family);

struct SocketAddress {
  SocketFamily family = SocketFamily::kOther;
  uint16_t raw_family = 0;  // sa_family as logged, for kOther
  // Text form: "127.0.0.1", "::1", "/run/x.sock", "@abstract"; empty
  // for an unnamed unix socket or kOther.
  std::string address;
  int32_t port = -1;  // -1 for unix and kOther
};

// Decodes saddr's hex. sa_family is in the logging machine's byte order;
// every architecture we replay (x86_64, i386, aarch64) is little-endian.
// Ports are network order. Errors: not hex, or too short for the family.
Result<SocketAddress> DecodeSockaddr(std::string_view hex);

}  // namespace recorder
