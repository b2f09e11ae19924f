#include "parse/message_types.h"

#include <libaudit.h>

#include <array>
#include <charconv>
#include <string>

namespace recorder {
namespace {

constexpr int kMaxType = 3000;

// Every record is looked up by name, so the name -> number map is an
// open-addressing table with a cheap inline hash rather than
// std::unordered_map (whose string hash and bucket walk showed in profiles).
constexpr size_t kSlots = 1024;  // power of two, > 2x libaudit's ~300 names

uint32_t HashName(std::string_view name) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

struct TypeTable {
  std::array<std::string_view, kMaxType> names{};
  std::array<int, kSlots> slots{};  // type number, 0 = empty

  TypeTable() {
    for (int type = 1; type < kMaxType; ++type) {
      // libaudit returns pointers into a static string table: they live
      // for the whole process, so views of them are safe to keep.
      const char* name = audit_msg_type_to_name(type);
      if (name == nullptr) continue;
      names[type] = name;
      if (Find(names[type]) != 0) continue;  // first number wins, as emplace did
      size_t i = HashName(names[type]) & (kSlots - 1);
      while (slots[i] != 0) i = (i + 1) & (kSlots - 1);
      slots[i] = type;
    }
  }

  int Find(std::string_view name) const {
    for (size_t i = HashName(name) & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
      const int type = slots[i];
      if (type == 0) return 0;
      if (names[type] == name) return type;
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
  if (int type = Table().Find(name); type != 0) return type;
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
