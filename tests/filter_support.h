// Test helpers for the filter stage: compiled filters from JSON texts and
// typed events built by hand.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "filter/compiled_filters.h"
#include "filter/filter_loader.h"
#include "normalize/event_codes.h"
#include "normalize/typed_event.h"

namespace recorder::filter {

// Compiles filter file texts ({name, text}) and an optional watchlist;
// fails the test (and returns null) on an error.
inline std::shared_ptr<const CompiledFilters> MustCompile(
    std::vector<FilterText> files, std::optional<FilterText> watchlist = std::nullopt,
    bool only_watch_file_root = true) {
  Result<LoadedFilters> loaded =
      CompileFilterTexts(std::move(files), std::move(watchlist), only_watch_file_root);
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded.ok() ? loaded->filters : nullptr;
}

inline std::shared_ptr<const CompiledFilters> MustCompile(const std::string& filters_json) {
  return MustCompile({{"filters.json", filters_json}});
}

// The error of texts that must not compile.
inline std::string CompileError(std::vector<FilterText> files,
                                std::optional<FilterText> watchlist = std::nullopt) {
  Result<LoadedFilters> loaded = CompileFilterTexts(std::move(files), std::move(watchlist));
  EXPECT_FALSE(loaded.ok()) << "compiled, but should not have";
  return loaded.ok() ? std::string() : loaded.status().message();
}

inline TypedEvent Event(EventBody body, const std::string& exe = "/usr/bin/app", int32_t pid = 100,
                        int32_t ppid = 1, int64_t time_ms = 1'000'000) {
  TypedEvent e;
  e.header.time_ms = time_ms;
  e.header.syscall = "openat";
  e.subject.pid = pid;
  e.subject.ppid = ppid;
  e.subject.uid = 1000;
  e.subject.euid = 1000;
  e.subject.auid = 1000;
  e.subject.exe = exe;
  e.body = std::move(body);
  return e;
}

inline TypedEvent FileEv(FileOperation op, const std::string& path,
                         const std::string& exe = "/usr/bin/app",
                         const std::string& new_path = "") {
  FileEvent f;
  f.operation = op;
  f.path = path;
  f.new_path = new_path;
  return Event(f, exe);
}

inline TypedEvent Exec(const std::vector<std::string>& argv, const std::string& exe, int32_t pid,
                       int32_t ppid, int64_t time_ms) {
  ProcessStart start;
  start.argv = argv;
  start.argc = static_cast<int64_t>(argv.size());
  TypedEvent e = Event(start, exe, pid, ppid, time_ms);
  e.header.syscall = "execve";
  return e;
}

inline TypedEvent Net(NetworkDirection direction, const std::string& protocol,
                      const std::string& remote, int32_t remote_port,
                      const std::string& local = "10.1.1.1", int32_t local_port = 40000,
                      const std::string& exe = "/usr/bin/app") {
  NetworkEvent n;
  n.direction = direction;
  n.protocol = CodeValue(kNetworkProtocolCodes, protocol).value_or(NetworkProtocol::kUnknown);
  n.family = remote.find(':') != std::string::npos ? AddressFamily::kInet6 : AddressFamily::kInet;
  n.remote_address = remote;
  n.remote_port = remote_port;
  n.local_address = local;
  n.local_port = local_port;
  TypedEvent e = Event(n, exe);
  e.header.syscall = "connect";
  return e;
}

}  // namespace recorder::filter
