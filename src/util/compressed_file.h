// Reading an evidence file that may be gzip-compressed (a name ending in
// .gz), whole or its first bytes, for the readers that need random access
// to a file's content (EVTX, BSM) rather than a line stream.
#pragma once

#include <cstddef>
#include <string>

#include "util/status.h"

namespace recorder {

// The first `count` bytes of `path` (decompressed for .gz), fewer when the
// file is shorter. An error names the path and why it cannot be read.
Result<std::string> ReadFileHead(const std::string& path, size_t count);

// All of `path` (decompressed for .gz). Refused (kInvalid) when it would
// exceed `max_bytes`, so a hostile .gz cannot fill the memory.
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);

}  // namespace recorder
