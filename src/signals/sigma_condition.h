// A Sigma rule's `condition` -> a tree over its selections, with Sigma's
// precedence: `not` binds tightest, then `and`, then `or`; parentheses
// group; `1 of X*` / `any of X*` / `all of X*` over the selections whose
// names match the pattern (`*` any run of characters), `them` for all.
//
// Errors: kInvalid for a malformed condition (syntax, a selection that
// does not exist, a pattern that names none); kUnavailable for Sigma the
// recorder does not support (aggregations `| count() ...`, `near`).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "signals/sigma_rule.h"
#include "util/status.h"

namespace recorder::signals {

Result<ConditionNode> ParseCondition(std::string_view text,
                                     const std::vector<std::string>& selection_names);

}  // namespace recorder::signals
