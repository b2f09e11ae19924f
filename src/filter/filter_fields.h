// The table of filter fields: names (with the accepted spellings), value
// kinds, the event types each applies to, and the closed value sets of
// enum fields. One table, read by the parser, the compiler and
// `recorder config show`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter_rules.h"

namespace recorder::filter {

struct FieldInfo {
  Field field;
  std::string_view name;                  // as documented ("parent_exe")
  std::vector<std::string_view> aliases;  // other accepted spellings
  FieldKind kind;
  uint8_t types;  // bit (1 << EventType) for each type the field applies to
  // Kernel-expressible in an audit rule (rules/filter_pushdown.h).
  bool kernel = false;
};

const FieldInfo& FieldInfoOf(Field field);
const std::vector<FieldInfo>& AllFields();

// A field by any accepted spelling (case, '_' and '-' ignored).
std::optional<Field> FieldByName(std::string_view name);
bool FieldApplies(Field field, EventType type);
// The documented names of the fields of `type`, for messages.
std::vector<std::string> FieldNamesOf(EventType type);

// The closed value set of an enum field for an event type ("operation" of
// file events: create, write, ...). Empty for non-enum fields.
std::vector<std::string_view> EnumValues(Field field, EventType type);

// A type by name: "process", "file", "network", "security", "module",
// "image", "dns" and their plural / manual spellings. nullopt otherwise
// (`registry` included: the caller reports it as not applicable).
std::optional<EventType> EventTypeByName(std::string_view name);
std::vector<std::string> EventTypeNames();  // for suggestions, with "registry"

// File operation name -> bit for OperationMask; 0 when unknown.
OperationMask OperationBit(std::string_view name);

}  // namespace recorder::filter
