// The daemon's state files and the `recorder status` report.
//
// State directory (root-only): "disabled" holds the reason an automatic
// limit (database size, CPU) switched recording off; while it exists
// `start` refuses unless forced (the manual's re-enable).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "util/status.h"

namespace recorder::daemon {

inline constexpr char kDisabledFileName[] = "disabled";

// The reason in <state_dir>/disabled, or nullopt when recording is enabled.
std::optional<std::string> ReadDisabledReason(const std::string& state_dir);
// Writes <state_dir>/disabled (used by the limits; tests).
Status WriteDisabled(const std::string& state_dir, const std::string& reason);
// Removes it (start --force, the manual's "Enable" package).
Status ClearDisabled(const std::string& state_dir);

// The human text of a status JSON object (what `recorder status` prints
// without --json). Works for the running daemon's answer and for the
// stopped/disabled report alike.
std::string FormatStatusText(const nlohmann::json& status);

}  // namespace recorder::daemon
