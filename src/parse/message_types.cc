#include "parse/message_types.h"

#include <libaudit.h>

#include <array>
#include <charconv>
#include <string>
#include <unordered_map>

namespace recorder {
namespace {

constexpr int kMaxType = 3000;

struct TypeTable {
  std::array<std::string_view, kMaxType> names{};
  std::unordered_map<std::string_view, int> numbers;

  TypeTable() {
    for (int type = 1; type < kMaxType; ++type) {
      // libaudit returns pointers into a static string table: they live
      // for the whole process, so views of them are safe to keep.
      const char* name = audit_msg_type_to_name(type);
      if (name == nullptr) continue;
      names[type] = name;
      numbers.emplace(names[type], type);
    }
  }
};

const TypeTable& Table() {
  static const TypeTable table;
  return table;
}

int ParseNumber(std::string_view digits) {
  int value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return value;
}

}  // namespace

int MessageTypeFromName(std::string_view name) {
  if (name.empty()) return 0;
  if (name.front() >= '0' && name.front() <= '9') return ParseNumber(name);
  const auto& numbers = Table().numbers;
  if (auto it = numbers.find(name); it != numbers.end()) return it->second;
  constexpr std::string_view kUnknown = "UNKNOWN[";
  if (name.size() > kUnknown.size() + 1 && name.substr(0, kUnknown.size()) == kUnknown &&
      name.back() == ']') {
    return ParseNumber(name.substr(kUnknown.size(), name.size() - kUnknown.size() - 1));
  }
  return 0;
}

std::string_view MessageTypeName(int type) {
  if (type <= 0 || type >= kMaxType) return {};
  return Table().names[type];
}

}  // namespace recorder
