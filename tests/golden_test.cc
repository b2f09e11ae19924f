// Replays the real kernel audit logs in tests/data (captured by
// scripts/capture-audit-sample running a known workload) through the whole
// pipeline and checks the typed events against what the workload did, as
// recorded in expected-markers.json. Nothing here is generated from the
// code under test: every expected value comes from the workload's own
// description (argv it ran, paths it touched, ports it used, errnos it saw).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "normalize/event_codes.h"
#include "normalize/typed_event_json.h"
#include "pipeline/pipeline.h"
#include "pipeline_support.h"

namespace recorder {
namespace {

using nlohmann::json;

const std::string kDataDir = RECORDER_TEST_DATA;

std::optional<json> LoadMarkers() {
  std::ifstream in(kDataDir + "/expected-markers.json");
  if (!in) return std::nullopt;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

EventBatch Replay(const std::string& file, bool keep_unix = false) {
  VectorSink sink;
  PipelineOptions options;
  options.normalizer.keep_unix_sockets = keep_unix;
  Pipeline pipeline(options, nullptr, &sink);
  FeedCapturedLog(file, &pipeline);
  EXPECT_EQ(pipeline.stats().malformed, 0u) << file;
  return std::move(sink.events_);
}

template <typename Body>
std::vector<const TypedEvent*> All(
    const EventBatch& events, const std::function<bool(const TypedEvent&, const Body&)>& pred) {
  std::vector<const TypedEvent*> out;
  for (const TypedEvent& e : events)
    if (const Body* b = std::get_if<Body>(&e.body); b != nullptr && pred(e, *b)) out.push_back(&e);
  return out;
}

std::vector<std::string> Strings(const json& array) {
  std::vector<std::string> out;
  for (const json& s : array) out.push_back(s.get<std::string>());
  return out;
}

std::string Dir(const std::string& path) { return path.substr(0, path.rfind('/') + 1); }

// One capture run (ENRICHED or RAW) and the markers that describe it.
class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto markers = LoadMarkers();
    if (!markers || markers->is_discarded()) GTEST_SKIP() << "no tests/data/expected-markers.json";
    markers_ = std::move(*markers);
    run_ = markers_["runs"][GetParam()];
    steps_ = markers_["steps"];
    events_ = Replay(run_["file"].get<std::string>());
    ASSERT_FALSE(events_.empty());
  }
  int64_t Varying(const char* name) const { return run_["varying"][name].get<int64_t>(); }

  const TypedEvent* StartWithArgv(const std::vector<std::string>& argv) const {
    auto hits = All<ProcessStart>(
        events_, [&](const TypedEvent&, const ProcessStart& p) { return p.argv == argv; });
    return hits.empty() ? nullptr : hits.front();
  }

  json markers_, run_, steps_;
  EventBatch events_;
};

TEST_P(GoldenTest, StepsRunInOrder) {
  std::vector<std::string> seen;
  for (const TypedEvent& e : events_)
    if (const auto* p = std::get_if<ProcessStart>(&e.body);
        p != nullptr && p->argv.size() == 3 && p->argv[1] == "recorder-golden-step")
      seen.push_back(p->argv[2]);
  EXPECT_EQ(seen, Strings(markers_["step_delimiter"]["order"]));
}

TEST_P(GoldenTest, SpecialArgsExact) {
  const json& step = steps_["exec_special_args"];
  const TypedEvent* e = StartWithArgv(Strings(step["argv"]));
  ASSERT_NE(e, nullptr) << "no exec with the special args (spaces, quotes, tab, newline, unicode)";
  const auto& p = std::get<ProcessStart>(e->body);
  EXPECT_EQ(p.argc, step["argc"].get<int64_t>());
  EXPECT_FALSE(p.argv_truncated);
  EXPECT_TRUE(e->header.success);
  EXPECT_EQ(e->header.syscall, "execve");
  EXPECT_EQ(e->header.arch, "x86_64");
  EXPECT_EQ(e->header.key, markers_["key"].get<std::string>());
  EXPECT_EQ(e->subject.exe, "/usr/bin/echo");
  EXPECT_EQ(e->subject.ses, run_["ses"].get<int64_t>());
}

TEST_P(GoldenTest, LongSplitArgumentHasExactLength) {
  const json& step = steps_["exec_long_arg"];
  const std::string marker = step["other_args"]["2"].get<std::string>();
  auto hits = All<ProcessStart>(events_, [&](const TypedEvent&, const ProcessStart& p) {
    return p.argv.size() == 3 && p.argv[2] == marker;
  });
  ASSERT_EQ(hits.size(), 1u);
  const auto& p = std::get<ProcessStart>(hits[0]->body);
  EXPECT_EQ(p.argc, step["argc"].get<int64_t>());
  EXPECT_EQ(p.argv[0], step["other_args"]["0"].get<std::string>());
  const size_t len = step["long_arg_len"].get<size_t>();
  EXPECT_EQ(p.argv[1], std::string(len, step["long_arg_char"].get<std::string>()[0]));
  EXPECT_FALSE(p.argv_truncated);
}

TEST_P(GoldenTest, ManyArgsInNumericOrderAcrossRecords) {
  const json& step = steps_["exec_many_args"];
  const TypedEvent* e = StartWithArgv(Strings(step["argv"]));
  ASSERT_NE(e, nullptr) << "no exec with the exact 302-arg argv";
  const auto& p = std::get<ProcessStart>(e->body);
  EXPECT_EQ(p.argc, step["argc"].get<int64_t>());
  EXPECT_FALSE(p.argv_truncated);
  size_t bytes = 0;
  for (const auto& a : p.argv) bytes += a.size();
  if (step.contains("total_arg_bytes")) {
    // total_arg_bytes counts the NUL after each argument.
    EXPECT_EQ(bytes + p.argv.size(), step["total_arg_bytes"].get<size_t>());
  }
}

TEST_P(GoldenTest, FailedExecsAndExecveat) {
  for (const char* name : {"exec_fail_enoent", "exec_fail_eacces"}) {
    SCOPED_TRACE(name);
    const json& step = steps_[name];
    const int64_t err = step["errno"].get<int64_t>();
    // A failed exec is an event of its caller, never a process start.
    EXPECT_TRUE(All<ProcessStart>(events_, [&](const TypedEvent& e, const ProcessStart&) {
                  return !e.header.success;
                }).empty());
    auto hits = All<ExecFailure>(events_, [&](const TypedEvent& e, const ExecFailure& f) {
      return f.path == step["path"].get<std::string>() && e.header.syscall == "execve" &&
             e.subject.ses == run_["ses"].get<int64_t>();
    });
    ASSERT_EQ(hits.size(), 1u);
    const auto& f = std::get<ExecFailure>(hits[0]->body);
    EXPECT_EQ(f.error, err);
    EXPECT_EQ(ErrnoName(f.error), step["errno_name"].get<std::string>());
    EXPECT_EQ(hits[0]->header.exit, -err);
    EXPECT_FALSE(hits[0]->header.success);
  }
  const TypedEvent* at = StartWithArgv(Strings(steps_["execveat"]["argv"]));
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(at->header.syscall, "execveat");
  EXPECT_EQ(at->subject.exe, "/usr/bin/true");
}

TEST_P(GoldenTest, ExitCodes) {
  for (const json& c : steps_["exit_codes"]) {
    SCOPED_TRACE(c["argv"].dump());
    const TypedEvent* start = StartWithArgv(Strings(c["argv"]));
    ASSERT_NE(start, nullptr);
    auto ends = All<ProcessEnd>(events_, [&](const TypedEvent& e, const ProcessEnd&) {
      return e.subject.pid == start->subject.pid;
    });
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(std::get<ProcessEnd>(ends[0]->body).exit_code, c["exit_code"].get<int64_t>());
    if (c.contains("signal")) {
      EXPECT_TRUE(ends[0]->header.syscall.empty());  // ANOM_ABEND, not exit_group
    } else {
      EXPECT_EQ(ends[0]->header.syscall, "exit_group");
    }
  }
}

// Finds the file event of `operation` on `path` (and `new_path` if given).
const TypedEvent* FindFile(const EventBatch& events, FileOperation operation,
                           const std::string& path, const std::string* new_path = nullptr,
                           const std::string& syscall = "") {
  auto hits = All<FileEvent>(events, [&](const TypedEvent& e, const FileEvent& f) {
    return f.operation == operation && f.path == path &&
           (new_path == nullptr || f.new_path == *new_path) &&
           (syscall.empty() || e.header.syscall == syscall);
  });
  return hits.empty() ? nullptr : hits.front();
}

TEST_P(GoldenTest, FileOperationsOnWorkloadFiles) {
  const json& files = steps_["files"];
  const std::string plain = files["plain"], space = files["space"], non_ascii = files["non_ascii"];
  const std::string hardlink = files["hardlink"], symlink = files["symlink"], dir = files["dir"];
  const std::string target = files["symlink_target"];

  EXPECT_NE(FindFile(events_, FileOperation::kCreate, plain), nullptr) << "bash > redirection";
  EXPECT_NE(FindFile(events_, FileOperation::kWrite, plain), nullptr) << "bash >> redirection";
  EXPECT_NE(FindFile(events_, FileOperation::kRename, plain, &space), nullptr) << "mv old -> new";
  EXPECT_NE(FindFile(events_, FileOperation::kCreate, non_ascii), nullptr) << "touch";
  const TypedEvent* chmod = FindFile(events_, FileOperation::kChmod, space);
  ASSERT_NE(chmod, nullptr);
  EXPECT_EQ(std::get<FileEvent>(chmod->body).mode, 0600);
  const TypedEvent* chown = FindFile(events_, FileOperation::kChown, space);
  ASSERT_NE(chown, nullptr);
  EXPECT_EQ(std::get<FileEvent>(chown->body).owner_uid, 65534);
  EXPECT_EQ(std::get<FileEvent>(chown->body).owner_gid, 65534);
  // truncate -s opens the file for writing, then ftruncate()s the fd.
  EXPECT_NE(FindFile(events_, FileOperation::kWrite, space), nullptr) << "truncate -s";
  EXPECT_NE(FindFile(events_, FileOperation::kLink, hardlink, &space), nullptr) << "ln";
  EXPECT_NE(FindFile(events_, FileOperation::kLink, symlink, &target), nullptr) << "ln -s";
  EXPECT_NE(FindFile(events_, FileOperation::kMkdir, dir), nullptr);
  EXPECT_NE(FindFile(events_, FileOperation::kRmdir, dir), nullptr);
  for (const std::string& gone : {symlink, hardlink, space, non_ascii})
    EXPECT_NE(FindFile(events_, FileOperation::kDelete, gone), nullptr) << gone;
}

TEST_P(GoldenTest, LegacyFileSyscalls) {
  const std::map<std::string, FileOperation> kOps = {
      {"creat", FileOperation::kCreate},      {"ftruncate", FileOperation::kTruncate},
      {"fchmod", FileOperation::kChmod},      {"fchown", FileOperation::kChown},
      {"openat2", FileOperation::kCreate},    {"rename", FileOperation::kRename},
      {"renameat", FileOperation::kRename},   {"renameat2", FileOperation::kRename},
      {"chmod", FileOperation::kChmod},       {"chown", FileOperation::kChown},
      {"truncate", FileOperation::kTruncate}, {"link", FileOperation::kLink},
      {"symlink", FileOperation::kLink},      {"lchown", FileOperation::kChown},
      {"mkdir", FileOperation::kMkdir},       {"rmdir", FileOperation::kRmdir},
      {"unlink", FileOperation::kDelete},
  };
  std::set<const TypedEvent*> used;  // the same call twice must match two events
  for (const json& op : steps_["files_legacy"]) {
    const std::string syscall = op["syscall"];
    SCOPED_TRACE(op.dump());
    const std::vector<std::string> paths = Strings(op["paths"]);
    const bool ok = op["result"].get<int64_t>() >= 0;
    if (syscall == "open") {
      // Read-only opens are not file events.
      auto hits = All<FileEvent>(events_, [&](const TypedEvent& e, const FileEvent& f) {
        return e.header.syscall == "open" && !paths.empty() && f.path == paths[0];
      });
      EXPECT_TRUE(hits.empty());
      continue;
    }
    ASSERT_TRUE(kOps.count(syscall)) << "workload op without an expectation";
    const FileOperation operation = kOps.at(syscall);
    auto hits = All<FileEvent>(events_, [&](const TypedEvent& e, const FileEvent& f) {
      if (used.count(&e) || e.header.syscall != syscall || f.operation != operation) return false;
      if (e.header.success != ok) return false;
      if (!ok) return e.header.exit == -op["errno"].get<int64_t>();
      if (paths.empty()) return f.path.empty();       // fd-based: no PATH record
      if (syscall == "link" || syscall == "symlink")  // path = new link, new_path = target
        return f.path == paths[1] && f.new_path == paths[0];
      if (paths.size() == 2) return f.path == paths[0] && f.new_path == paths[1];
      return f.path == paths[0];
    });
    ASSERT_FALSE(hits.empty());
    const TypedEvent& e = *hits.front();
    used.insert(&e);
    const auto& f = std::get<FileEvent>(e.body);
    if (!ok && !paths.empty()) {
      // Only the directory was resolved: the event names it.
      EXPECT_EQ(f.path, Dir(paths[0]));
    }
    if (op.contains("mode") && (syscall == "chmod" || syscall == "fchmod")) {
      EXPECT_EQ(f.mode, std::stol(op["mode"].get<std::string>(), nullptr, 8));
    }
    if (op.contains("uid")) {
      EXPECT_EQ(f.owner_uid, op["uid"].get<int64_t>());
      EXPECT_EQ(f.owner_gid, op["gid"].get<int64_t>());
    }
  }
}

const TypedEvent* FindNet(const EventBatch& events, NetworkDirection direction,
                          const std::function<bool(const TypedEvent&, const NetworkEvent&)>& pred) {
  auto hits = All<NetworkEvent>(events, [&](const TypedEvent& e, const NetworkEvent& n) {
    return n.direction == direction && pred(e, n);
  });
  return hits.empty() ? nullptr : hits.front();
}

TEST_P(GoldenTest, TcpConnectAcceptListenOnLoopback) {
  const json& net = steps_["network"];
  for (const char* name : {"tcp4", "tcp6"}) {
    SCOPED_TRACE(name);
    const json& c = net[name];
    const std::string host = c["host"];
    const int port = c["port"];
    const std::string family = std::string(name) == "tcp4" ? "ipv4" : "ipv6";
    const int64_t client_pid = Varying((std::string("network.") + name + ".client_pid").c_str());
    const int64_t server_pid = Varying((std::string("network.") + name + ".server_pid").c_str());
    const int client_port =
        static_cast<int>(Varying((std::string("network.") + name + ".client_port").c_str()));

    const TypedEvent* listen = FindNet(events_, NetworkDirection::kListen,
                                       [&](const TypedEvent& e, const NetworkEvent& n) {
                                         return e.subject.pid == server_pid && n.local_port == port;
                                       });
    ASSERT_NE(listen, nullptr);
    EXPECT_EQ(std::get<NetworkEvent>(listen->body).local_address, host);
    EXPECT_EQ(Name(std::get<NetworkEvent>(listen->body).family), family);
    EXPECT_EQ(Name(std::get<NetworkEvent>(listen->body).protocol), "tcp");

    const TypedEvent* connect = FindNet(
        events_, NetworkDirection::kOutbound, [&](const TypedEvent& e, const NetworkEvent& n) {
          return e.subject.pid == client_pid && n.remote_port == port;
        });
    ASSERT_NE(connect, nullptr);
    EXPECT_TRUE(connect->header.success);
    EXPECT_EQ(std::get<NetworkEvent>(connect->body).remote_address, host);
    EXPECT_EQ(Name(std::get<NetworkEvent>(connect->body).family), family);

    const TypedEvent* accept = FindNet(
        events_, NetworkDirection::kInbound, [&](const TypedEvent& e, const NetworkEvent& n) {
          return e.subject.pid == server_pid && n.remote_port == client_port;
        });
    ASSERT_NE(accept, nullptr);
    const auto& a = std::get<NetworkEvent>(accept->body);
    EXPECT_EQ(a.remote_address, host);
    EXPECT_EQ(a.local_address, host);
    EXPECT_EQ(a.local_port, port);
    EXPECT_EQ(Name(a.protocol), "tcp");
    EXPECT_EQ(Name(a.family), family);
  }
}

TEST_P(GoldenTest, RefusedAndNonBlockingConnects) {
  const json& net = steps_["network"];
  const json& refused = net["refused"];
  const TypedEvent* r =
      FindNet(events_, NetworkDirection::kOutbound, [&](const TypedEvent&, const NetworkEvent& n) {
        return n.remote_port == refused["port"].get<int>();
      });
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->header.success);
  EXPECT_EQ(r->header.exit, -refused["errno"].get<int64_t>());
  EXPECT_EQ(std::get<NetworkEvent>(r->body).remote_address, refused["host"].get<std::string>());
  EXPECT_FALSE(std::get<NetworkEvent>(r->body).in_progress);

  const json& nb = net["nonblocking"];
  const TypedEvent* p =
      FindNet(events_, NetworkDirection::kOutbound,
              [&](const TypedEvent&, const NetworkEvent& n) { return n.in_progress; });
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->header.exit, -nb["errno"].get<int64_t>());
  EXPECT_EQ(std::get<NetworkEvent>(p->body).remote_port, nb["port"].get<int>());
  EXPECT_EQ(std::get<NetworkEvent>(p->body).remote_address, nb["host"].get<std::string>());

  // A UDP bind without listen is remembered but stored as nothing.
  const int udp_port = net["udp_bind"]["port"];
  EXPECT_EQ(
      FindNet(events_, NetworkDirection::kListen,
              [&](const TypedEvent&, const NetworkEvent& n) { return n.local_port == udp_port; }),
      nullptr);
}

TEST_P(GoldenTest, UnixSocketsOnlyWhenAsked) {
  for (const TypedEvent& e : events_)
    if (const auto* n = std::get_if<NetworkEvent>(&e.body)) {
      EXPECT_NE(Name(n->family), "unix");
    }
  auto with_unix = Replay(run_["file"].get<std::string>(), /*keep_unix=*/true);
  const json& net = steps_["network"];
  const std::string path = net["unix"]["path"];
  auto to_path = All<NetworkEvent>(with_unix, [&](const TypedEvent&, const NetworkEvent& n) {
    return Name(n.family) == "unix" && (n.remote_address == path || n.local_address == path);
  });
  EXPECT_FALSE(to_path.empty()) << path;
  const std::string abstract = net["unix_abstract_refused"]["path"];
  auto refused = All<NetworkEvent>(with_unix, [&](const TypedEvent& e, const NetworkEvent& n) {
    return n.remote_address == abstract && !e.header.success &&
           e.header.exit == -net["unix_abstract_refused"]["errno"].get<int64_t>();
  });
  EXPECT_EQ(refused.size(), 1u) << abstract;
}

TEST_P(GoldenTest, PamSecurityEventsForSuAndRunuser) {
  auto find = [&](SecurityKind kind, const std::string& exe, const std::string& target,
                  const std::string& result) {
    return All<SecurityEvent>(events_, [&](const TypedEvent& e, const SecurityEvent& s) {
      return s.kind == kind && e.subject.exe == exe && s.target_user == target &&
             Name(s.result) == result && e.subject.ses == run_["ses"].get<int64_t>();
    });
  };
  // su as root: pam_rootok authentication, then a session, for each target.
  for (const char* target : {"nobody", "root"}) {
    SCOPED_TRACE(target);
    EXPECT_FALSE(find(SecurityKind::kAuthentication, "/usr/bin/su", target, "success").empty());
    EXPECT_FALSE(find(SecurityKind::kAccount, "/usr/bin/su", target, "success").empty());
    EXPECT_FALSE(find(SecurityKind::kSessionStart, "/usr/bin/su", target, "success").empty());
    EXPECT_FALSE(find(SecurityKind::kSessionEnd, "/usr/bin/su", target, "success").empty());
    EXPECT_FALSE(find(SecurityKind::kCredential, "/usr/bin/su", target, "success").empty());
  }
  EXPECT_FALSE(find(SecurityKind::kSessionStart, "/usr/sbin/runuser", "nobody", "success").empty());
  EXPECT_FALSE(find(SecurityKind::kCredential, "/usr/sbin/runuser", "nobody", "success").empty());
  // su root run as nobody without a password: refused authentication.
  auto failed = find(SecurityKind::kAuthentication, "/usr/bin/su", "root", "failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]->subject.uid, 65534);
  EXPECT_FALSE(failed[0]->header.success);
  const std::string& user = std::get<SecurityEvent>(failed[0]->body).user;
  EXPECT_EQ(user, GetParam() == "enriched" ? "nobody" : "65534");
}

TEST_P(GoldenTest, PrivilegeChanges) {
  const int64_t child = Varying("setid.child_pid");
  auto changes = All<SecurityEvent>(events_, [&](const TypedEvent& e, const SecurityEvent& s) {
    return e.subject.pid == child && s.kind == SecurityKind::kPrivilegeChange;
  });
  const json& ops = steps_["setid"]["ops"];
  ASSERT_EQ(changes.size(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE(ops[i].dump());
    const TypedEvent& e = *changes[i];
    const auto& s = std::get<SecurityEvent>(e.body);
    EXPECT_EQ(e.header.syscall, ops[i]["syscall"].get<std::string>());
    const bool ok = ops[i]["result"].get<int64_t>() == 0;
    EXPECT_EQ(e.header.success, ok);
    EXPECT_EQ(Name(s.result), ok ? "success" : "failed");
    if (!ok) {
      EXPECT_EQ(e.header.exit, -ops[i]["errno"].get<int64_t>());
    }
    // The new (effective) id: the only argument, or the second of re/res.
    const json& args = ops[i]["args"];
    const int64_t target = args.size() == 1 ? args[0].get<int64_t>() : args[1].get<int64_t>();
    EXPECT_EQ(s.target_user, std::to_string(target));
  }
  // su started by nobody is a set-user-ID exec: uid 65534 -> euid 0.
  auto setuid_exec = All<SecurityEvent>(events_, [&](const TypedEvent& e, const SecurityEvent& s) {
    return s.kind == SecurityKind::kPrivilegeChange && e.header.syscall == "execve" &&
           e.subject.uid == 65534 && e.subject.exe == "/usr/bin/su";
  });
  ASSERT_EQ(setuid_exec.size(), 1u);
  EXPECT_EQ(std::get<SecurityEvent>(setuid_exec[0]->body).target_user, "0");
}

TEST_P(GoldenTest, ModuleSyscalls) {
  if (!steps_.contains("modules_raw")) GTEST_SKIP() << "the capture made no module syscalls";
  auto modules =
      All<ModuleEvent>(events_, [](const TypedEvent&, const ModuleEvent&) { return true; });
  const json& ops = steps_["modules_raw"];
  ASSERT_EQ(modules.size(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE(ops[i].dump());
    const TypedEvent& e = *modules[i];
    const std::string syscall = ops[i]["syscall"];
    EXPECT_EQ(e.header.syscall, syscall);
    EXPECT_EQ(std::get<ModuleEvent>(e.body).operation,
              syscall == "delete_module" ? ModuleOperation::kUnload : ModuleOperation::kLoad);
    const bool ok = ops[i]["result"].get<int64_t>() >= 0;
    EXPECT_EQ(e.header.success, ok);
    if (!ok) {
      EXPECT_EQ(e.header.exit, -ops[i]["errno"].get<int64_t>());
      EXPECT_EQ(std::get<ModuleEvent>(e.body).module, "");  // no KERN_MODULE for a failed call
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Capture, GoldenTest, ::testing::Values("enriched", "raw"),
                         [](const auto& param_info) { return param_info.param; });

// The same workload logged in both formats gives the same typed events,
// apart from what differs between the runs (pids, times, serials, the
// session, ephemeral ports, and the run's own scratch paths).
TEST(GoldenFormats, EnrichedAndRawGiveTheSameTypedEvents) {
  auto markers = LoadMarkers();
  if (!markers || markers->is_discarded()) GTEST_SKIP() << "no tests/data/expected-markers.json";
  std::vector<std::string> projected[2];
  const char* runs[2] = {"enriched", "raw"};
  for (int r = 0; r < 2; ++r) {
    const json& run = (*markers)["runs"][runs[r]];
    const std::string ses = std::to_string(run["ses"].get<int64_t>());
    const std::string format = run["log_format"];
    std::set<int64_t> varying_ports;
    for (const auto& [name, value] : run["varying"].items())
      if (name.ends_with("_port")) varying_ports.insert(value.get<int64_t>());
    for (const TypedEvent& e : Replay(run["file"].get<std::string>())) {
      json j = ToJson(e);
      for (const char* field : {"time", "serial", "pid", "ppid", "ses", "user", "proctitle"})
        j.erase(field);
      for (const char* port : {"local_port", "remote_port"})
        if (j.contains(port) && j[port].is_number() && varying_ports.count(j[port].get<int64_t>()))
          j[port] = "ephemeral";
      if (j.contains("argv")) {
        for (json& arg : j["argv"]) {
          std::string a = arg.get<std::string>();
          for (const std::string& from : {"sessionid=" + ses, "/" + format + "/"}) {
            size_t at = a.find(from);
            if (at != std::string::npos)
              a.replace(at, from.size(), from[0] == '/' ? "/FORMAT/" : "sessionid=SES");
          }
          arg = a;
        }
      }
      projected[r].push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    std::sort(projected[r].begin(), projected[r].end());
  }
  ASSERT_GT(projected[0].size(), 100u);
  EXPECT_EQ(projected[0].size(), projected[1].size());
  std::vector<std::string> only_enriched, only_raw;
  std::set_difference(projected[0].begin(), projected[0].end(), projected[1].begin(),
                      projected[1].end(), std::back_inserter(only_enriched));
  std::set_difference(projected[1].begin(), projected[1].end(), projected[0].begin(),
                      projected[0].end(), std::back_inserter(only_raw));
  EXPECT_TRUE(only_enriched.empty()) << only_enriched.size() << " e.g. " << only_enriched[0];
  EXPECT_TRUE(only_raw.empty()) << only_raw.size() << " e.g. " << only_raw[0];
}

}  // namespace
}  // namespace recorder
