// The effective configuration as a list of settings, each with its value
// and the file(s) it came from, for `recorder config show`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"

namespace recorder::config {

struct SettingLine {
  std::string name;  // as in docs/configuration.md
  nlohmann::json value;
  std::string source;  // "default", a file, or "a.json, b.json (max)"
};

std::vector<SettingLine> DescribeConfig(const LoadedConfig& loaded);

}  // namespace recorder::config
