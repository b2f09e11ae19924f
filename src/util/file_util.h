// Small file helpers shared by the stages that persist state.
//
// Recorded data is private: every file the recorder writes (monitor.db and
// its -wal/-shm, state files, logs) is created 0600 and every directory it
// creates 0700, whatever the umask, and a path whose last component is a
// symbolic link, or a file that belongs to another user, is refused rather
// than written through.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace recorder {

inline constexpr unsigned kPrivateFileMode = 0600;
inline constexpr unsigned kPrivateDirectoryMode = 0700;

// Writes `contents` to `path` through `path`.tmp and a rename, so a crash
// leaves either the old file or the new one, never half of each. The file
// is 0600; `path` must not be a symbolic link. An error carries the
// errno's code (kNotFound for a missing directory, kPermission, kIo for a
// full disk).
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Makes `path` safe to hold recorded data before a library (SQLite,
// spdlog) opens it: creates it empty and 0600 when missing; when present,
// refuses a symbolic link, something that is not a regular file, or a file
// owned by another user than the effective one, and takes away any group
// or other permission bits (a file made by an older version, or under a
// loose umask). Errors name the path and the reason.
Status PreparePrivateFile(const std::string& path);

// The same for files that may or may not exist and that this process does
// not create itself (SQLite's -wal and -shm): checked and tightened when
// present, nothing when absent.
Status TightenIfPresent(const std::string& path);

// The size of the file at `path` in bytes; -1 when there is none (or it
// cannot be stat'ed).
int64_t FileSize(const std::string& path);

// Creates `dir` and its missing parents 0700 (existing ones are left as
// they are). A symbolic link as the last component is refused.
Status CreatePrivateDirectories(const std::string& dir);

}  // namespace recorder
