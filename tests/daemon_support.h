// Test helpers: a daemon kept inside a test's own directory.
#pragma once

#include <string>

#include "config/config.h"
#include "daemon/recorder_daemon.h"
#include "temp_dir.h"

namespace recorder {

// Options for a daemon whose config, state dir, control socket, pid file
// and monitor.db all live in `dir`; unicast source, no live line.
inline daemon::DaemonOptions DaemonIn(const TempDir& dir) {
  daemon::DaemonOptions options;
  options.config = config::DefaultConfig(dir.path());
  options.config.state_dir = dir.File("state");
  options.config.control_socket = dir.File("state/recorder.sock");
  options.config.pid_file = dir.File("state/recorder.pid");
  options.db_path = dir.File("monitor.db");
  options.source = config::AuditSource::kUnicast;
  options.live_line = false;
  return options;
}

// The same, but its start fails once the run's row exists (the JSON output
// cannot be opened), before any kernel audit state is touched.
inline daemon::DaemonOptions DaemonThatFailsAfterTheRunBegan(const TempDir& dir) {
  daemon::DaemonOptions options = DaemonIn(dir);
  options.json_out = dir.File("no/such/dir/events.json");
  return options;
}

}  // namespace recorder
