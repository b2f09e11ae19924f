// A hash map keyed by std::string that is looked up by std::string_view
// without building a string: the hot paths hold views.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace recorder {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringViewHash, std::equal_to<>>;

}  // namespace recorder
