// Small file helpers shared by the stages that persist state.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder {

// Writes `contents` to `path` through `path`.tmp and a rename, so a crash
// leaves either the old file or the new one, never half of each.
// An error carries the errno's code (kNotFound for a missing directory,
// kPermission, kIo for a full disk).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace recorder
