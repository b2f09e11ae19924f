// The merged filters as text and as JSON, for `recorder config show`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "filter/filter_rules.h"

namespace recorder::filter {

// "exe equals \"/usr/bin/x\"", "remote_port in 8000-8100", ...
std::string DescribeCondition(const Condition& condition);
std::string DescribeRule(const Rule& rule);

nlohmann::json FiltersToJson(const FilterConfig& config);
// One block per product file and one for the watchlist; "" when there are none.
std::string FiltersToText(const FilterConfig& config);

}  // namespace recorder::filter
