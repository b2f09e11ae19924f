// The `response` column of dns_data (the dns_events view): a DNS
// exchange's A and AAAA answers as one text, "10.0.0.1, ::1", in answer
// order. Written by the store, read back by hunts (the hostnames of later
// connections); one definition of the format for both.
#pragma once

#include <string>
#include <string_view>

namespace recorder::store {

inline constexpr std::string_view kDnsResponseSeparator = ", ";

// Appends `address` to a response text.
inline void AppendDnsResponseAddress(std::string* response, std::string_view address) {
  if (!response->empty()) response->append(kDnsResponseSeparator);
  response->append(address);
}

// Calls on_address(std::string_view) for each address of a response text.
template <typename OnAddress>
void ForEachDnsResponseAddress(std::string_view response, OnAddress&& on_address) {
  for (size_t at = 0; at < response.size();) {
    size_t end = response.find(kDnsResponseSeparator, at);
    if (end == std::string_view::npos) end = response.size();
    on_address(response.substr(at, end - at));
    at = end + kDnsResponseSeparator.size();
  }
}

}  // namespace recorder::store
