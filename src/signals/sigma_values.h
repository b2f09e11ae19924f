// Sigma's value syntax: `*` any run of characters, `?` one character,
// `\*` `\?` `\\` those characters themselves (a backslash before anything
// else is itself); case-insensitive. A value becomes the cheapest test
// that means the same: equals, or one of the substring family (shared
// Aho-Corasick automata) when its only wildcards are at the ends, else
// an RE2 regex. Also the value expansions of |windash and |base64offset.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "signals/sigma_rule.h"

namespace recorder::signals {

// What the modifier adds around the value: |contains `*v*`,
// |startswith `v*`, |endswith `*v`, none `v`.
enum class WildcardAnchor : uint8_t { kWhole, kContains, kStartsWith, kEndsWith };

// kEquals / kContains / kStartsWith / kEndsWith with the unescaped literal
// in `text`, or kWildcard with an RE2 regex (case folding is the
// matcher's: FieldMatcher is given these case-insensitive).
ValueTest CompileWildcardValue(std::string_view value, WildcardAnchor anchor);

// `text` with `*`, `?` and `\` escaped: matches itself only.
std::string EscapeWildcards(std::string_view text);

// |windash: the value, and the value with every '-' that starts a word
// written as '/', en dash, em dash and horizontal bar (as Windows
// programs accept them).
std::vector<std::string> WindashVariants(std::string_view value);

// |base64offset: the three base64 texts that appear inside any base64
// encoding of a text containing `value`, whatever its offset.
std::vector<std::string> Base64OffsetVariants(std::string_view value);

}  // namespace recorder::signals
