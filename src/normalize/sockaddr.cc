#include "normalize/sockaddr.h"

#include <arpa/inet.h>

#include "parse/field_values.h"

namespace recorder {
namespace {

constexpr uint16_t kAfUnix = 1;
constexpr uint16_t kAfInet = 2;
constexpr uint16_t kAfInet6 = 10;

uint16_t BigEndian16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) << 8 | static_cast<uint8_t>(b[at + 1]));
}

}  // namespace

Result<SocketAddress> DecodeSockaddr(std::string_view hex) {
  std::string bytes;
  if (!AppendHexDecoded(hex, &bytes)) return Status::Error("saddr is not hex");
  if (bytes.size() < 2) return Status::Errorf("saddr too short ({} bytes)", bytes.size());
  SocketAddress out;
  out.raw_family =
      static_cast<uint16_t>(static_cast<uint8_t>(bytes[0]) | static_cast<uint8_t>(bytes[1]) << 8);
  switch (out.raw_family) {
    case kAfInet: {
      // sockaddr_in: family(2) port(2) addr(4) zero(8); the kernel logs
      // the length the caller passed, which is at least these 8 bytes.
      if (bytes.size() < 8)
        return Status::Errorf("AF_INET saddr too short ({} bytes)", bytes.size());
      char text[INET_ADDRSTRLEN];
      if (inet_ntop(AF_INET, bytes.data() + 4, text, sizeof(text)) == nullptr)
        return Status::Error("inet_ntop failed");
      out.family = AddressFamily::kInet;
      out.address = text;
      out.port = BigEndian16(bytes, 2);
      return out;
    }
    case kAfInet6: {
      // sockaddr_in6: family(2) port(2) flowinfo(4) addr(16) scope_id(4).
      if (bytes.size() < 24)
        return Status::Errorf("AF_INET6 saddr too short ({} bytes)", bytes.size());
      char text[INET6_ADDRSTRLEN];
      if (inet_ntop(AF_INET6, bytes.data() + 8, text, sizeof(text)) == nullptr)
        return Status::Error("inet_ntop failed");
      out.family = AddressFamily::kInet6;
      out.address = text;
      out.port = BigEndian16(bytes, 2);
      return out;
    }
    case kAfUnix: {
      out.family = AddressFamily::kUnix;
      std::string_view path(bytes.data() + 2, bytes.size() - 2);
      if (!path.empty() && path[0] == '\0') {
        // Abstract namespace: the name is every byte the caller passed
        // after the leading NUL (it may hold NULs; trailing padding is
        // cut so "@name" reads as ss -x shows it).
        path.remove_prefix(1);
        while (!path.empty() && path.back() == '\0') path.remove_suffix(1);
        out.address = "@";
        out.address.append(path);
      } else {
        // Filesystem path: NUL-terminated within sun_path.
        size_t nul = path.find('\0');
        out.address.assign(path.substr(0, nul));
      }
      return out;
    }
    default:
      return out;  // kOther: the caller drops it
  }
}

}  // namespace recorder
