#include "normalize/typed_event.h"

#include <iterator>

namespace recorder {

std::string_view EventKindName(size_t body_index) {
  static constexpr std::string_view kNames[] = {
      "process_start", "process_end", "file",        "network", "security",
      "module",        "image",       "failed_exec", "dns",     "registry"};
  static_assert(std::size(kNames) == std::variant_size_v<EventBody>);
  return body_index < std::size(kNames) ? kNames[body_index] : "unknown";
}

}  // namespace recorder
