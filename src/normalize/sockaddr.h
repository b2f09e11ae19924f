// Decoding the SOCKADDR record's saddr= (a struct sockaddr as hex).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "normalize/typed_event.h"
#include "util/status.h"

namespace recorder {

struct SocketAddress {
  // kOther for AF_NETLINK, AF_PACKET, AF_UNSPEC, ...: not stored.
  AddressFamily family = AddressFamily::kOther;
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
