// monitor.db's public query surface: the views over the packed tables
// (docs/schema.md lists every column). Their definitions live here and
// nowhere else, and every integer code a view decodes (file operation,
// network protocol, security result, errno, ...) is decoded by a CASE
// expression generated from that enum's one table in
// normalize/event_codes.h, so the views cannot drift from the C++ enums.
//
// PrepareSchema (schema.h) creates them after the table migrations, and
// recreates them whenever a database's stored definitions differ from
// these (a new enumerator, a new column), so no migration carries views.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/event_codes.h"

namespace recorder::store {

struct ViewDefinition {
  std::string name;
  std::string sql;  // the whole CREATE VIEW statement
};

// The views of the current schema, in creation order.
const std::vector<ViewDefinition>& CurrentViews();

// "CASE expr WHEN <value> THEN '<text>' ... END": NULL for a value with no
// row. Texts are quoted as SQL string literals.
template <typename E, size_t N>
std::string SqlCase(std::string_view expr, const EnumCode<E> (&table)[N]);

// The reverse, for migrations from text columns: "CASE expr WHEN '<text>'
// THEN <value> ... END".
template <typename E, size_t N>
std::string SqlCaseFromText(std::string_view expr, const EnumCode<E> (&table)[N]);

// ---------------------------------------------------------------------------

std::string SqlQuote(std::string_view text);

template <typename E, size_t N>
std::string SqlCase(std::string_view expr, const EnumCode<E> (&table)[N]) {
  std::string out = "CASE ";
  out.append(expr);
  for (const EnumCode<E>& code : table) {
    out.append(" WHEN ").append(std::to_string(static_cast<int64_t>(code.value)));
    out.append(" THEN ").append(SqlQuote(code.text));
  }
  return out + " END";
}

template <typename E, size_t N>
std::string SqlCaseFromText(std::string_view expr, const EnumCode<E> (&table)[N]) {
  std::string out = "CASE ";
  out.append(expr);
  for (const EnumCode<E>& code : table) {
    out.append(" WHEN ").append(SqlQuote(code.text));
    out.append(" THEN ").append(std::to_string(static_cast<int64_t>(code.value)));
  }
  return out + " END";
}

}  // namespace recorder::store
