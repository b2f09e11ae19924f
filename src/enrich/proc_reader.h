// Reads what /proc says about this machine's tasks: the process table's
// seed (and its check of a state file against the running system).
//
// `root` is injectable: tests point it at a fake tree. Nothing is cached;
// every call reads the files again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "normalize/typed_event.h"

namespace recorder::enrich {

// One /proc/PID.
struct ProcEntry {
  int32_t ppid = 0;
  int64_t start_ticks = -1;  // stat field 22: clock ticks after boot
  std::string exe;           // readlink of exe, " (deleted)" stripped
  std::vector<std::string> argv;
  // kUnsetId when unreadable; auid 4294967295 (never logged in) too.
  int64_t uid = kUnsetId, euid = kUnsetId, gid = kUnsetId, egid = kUnsetId, auid = kUnsetId;
};

class ProcReader {
 public:
  explicit ProcReader(std::string root) : root_(std::move(root)) {}

  // False when /proc/PID is gone or its stat unreadable.
  bool Read(int32_t pid, ProcEntry* out) const;
  // Every numeric entry of the root, ascending.
  bool Pids(std::vector<int32_t>* out) const;
  // btime of <root>/stat in ms since the epoch; -1 when unreadable.
  int64_t BootTimeMs() const;
  // <root>/sys/kernel/random/boot_id; empty when unreadable.
  std::string BootId() const;
  // <root>/sys/kernel/hostname (the name auditd's name_format=hostname
  // writes as node=); empty when unreadable.
  std::string Hostname() const;

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

// 4294967295 ((uid_t)-1) means "unset" in audit and in /proc.
int64_t NormalizeId(int64_t id);

}  // namespace recorder::enrich
