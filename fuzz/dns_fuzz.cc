// libFuzzer target for the DNS wire parser (parse/dns_message.h): one
// message as UDP carries it, then the same bytes as a TCP stream fed in
// two pieces (length-prefixed messages split across segments), each
// message parsed and its names rendered.
//
//   scripts/fuzz [seconds]     (builds with clang into build-fuzz and runs)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parse/dns_message.h"

namespace {

size_t Consume(std::string_view wire) {
  using namespace recorder;
  using namespace recorder::dns;
  Result<DnsMessage> parsed = ParseDnsMessage(wire);
  if (!parsed.ok()) return parsed.status().message().size();
  size_t n = DnsRcodeName(parsed->rcode).size();
  for (const DnsQuestion& q : parsed->questions)
    n += q.name.size() + DnsTypeName(q.type).size() + DnsClassName(q.klass).size();
  for (const DnsAnswer& a : parsed->answers) n += a.name.size() + a.data.size();
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t n = Consume(input);
  recorder::dns::DnsTcpStream stream;
  const size_t split = size == 0 ? 0 : data[0] % size;
  stream.Feed(input.substr(0, split));
  while (auto message = stream.Next()) n += Consume(*message);
  stream.Feed(input.substr(split));
  while (auto message = stream.Next()) n += Consume(*message);
  return static_cast<int>(n & 0);
}
