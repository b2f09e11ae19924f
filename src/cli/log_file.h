// The recorder's log file (logFile, logMaxSize, logRotations): spdlog's
// rotating sink, so recorder.log never grows past logMaxSize and at most
// logRotations older logs (recorder.1.log, recorder.2.log, ...) are kept.
// Logs name what was recorded (paths, commands): the file and every
// rotation are created 0600 whatever the umask, and a symbolic link or a
// file of another user at the path is refused (util/file_util.h).
#pragma once

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <string>

#include "util/status.h"

namespace recorder::cli {

// A logger named `name` writing to `path`, rotating at `max_bytes` (at
// least 1) and keeping `rotations` older files (0: the file is emptied
// when full). Not registered with spdlog: the caller makes it the default.
Result<std::shared_ptr<spdlog::logger>> OpenRotatingLog(const std::string& name,
                                                        const std::string& path, int64_t max_bytes,
                                                        int rotations);

}  // namespace recorder::cli
