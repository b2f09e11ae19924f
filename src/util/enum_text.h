// Tables of value <-> text for closed sets (enums, error numbers), and the
// lookups every stage uses on them. A table row is the one place a value's
// text is written; the static_asserts beside each table (CodesAreDistinct,
// CodesCover) stand in for the compiler's switch coverage check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace recorder {

template <typename E>
struct EnumCode {
  E value;
  std::string_view text;
};

// The text of `value` in `table`; empty when it has no row.
template <typename E, size_t N>
constexpr std::string_view CodeText(const EnumCode<E> (&table)[N], E value) {
  for (const EnumCode<E>& code : table)
    if (code.value == value) return code.text;
  return {};
}

// The value whose text is `text`; nullopt when none.
template <typename E, size_t N>
constexpr std::optional<E> CodeValue(const EnumCode<E> (&table)[N], std::string_view text) {
  for (const EnumCode<E>& code : table)
    if (code.text == text) return code.value;
  return std::nullopt;
}

// Every value and every text appears once.
template <typename E, size_t N>
constexpr bool CodesAreDistinct(const EnumCode<E> (&table)[N]) {
  for (size_t i = 0; i < N; ++i)
    for (size_t j = i + 1; j < N; ++j)
      if (table[i].value == table[j].value || table[i].text == table[j].text) return false;
  return true;
}

// Every enumerator from `first` to `last` has a row.
template <typename E, size_t N>
constexpr bool CodesCover(const EnumCode<E> (&table)[N], E first, E last) {
  for (auto v = static_cast<int64_t>(first); v <= static_cast<int64_t>(last); ++v)
    if (CodeText(table, static_cast<E>(v)).empty()) return false;
  return true;
}

}  // namespace recorder
