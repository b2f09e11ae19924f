// libFuzzer target for the filter files and watchlist.json: parsing
// (errors and warnings), compilation (automata, RE2 sets, CIDR and range
// tables), matching a few events, the text/JSON descriptions and the
// kernel pushdown plan. The input is a filter file, optionally followed
// by "\n%%\n" and a watchlist.
//
//   scripts/fuzz [seconds]     (builds with clang into build-fuzz and runs)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "filter/compiled_filters.h"
#include "filter/filter_describe.h"
#include "filter/filter_loader.h"
#include "normalize/event_codes.h"
#include "rules/filter_pushdown.h"

namespace {

using namespace recorder;
using namespace recorder::filter;

std::vector<TypedEvent> SampleEvents() {
  std::vector<TypedEvent> events;
  TypedEvent base;
  base.header.time_ms = 1000;
  base.header.syscall = "openat";
  base.subject.pid = 42;
  base.subject.ppid = 1;
  base.subject.uid = 1000;
  base.subject.exe = "/usr/bin/python3";
  base.enrichment.user = "alice";
  ProcessStart start;
  start.argv = {"python3", "/opt/Poll.py", "--every", "1s"};
  base.body = start;
  events.push_back(base);
  FileEvent file;
  file.operation = FileOperation::kRename;
  file.path = "/home/alice/.cache/x.tmp";
  file.new_path = "/etc/\xff\xfe";
  base.body = file;
  events.push_back(base);
  NetworkEvent net;
  net.protocol = NetworkProtocol::kTcp;
  net.family = AddressFamily::kInet6;
  net.remote_address = "::ffff:10.1.2.3";
  net.remote_port = 443;
  net.local_address = "fe80::1";
  net.local_port = 50000;
  base.body = net;
  events.push_back(base);
  SecurityEvent sec;
  sec.user = "root";
  sec.address = "192.0.2.1";
  sec.result = SecurityResult::kFailed;
  base.body = sec;
  events.push_back(base);
  ModuleEvent mod;
  mod.module = "usb_storage";
  base.body = mod;
  events.push_back(base);
  ImageLoadEvent image;
  image.path = "/lib/x86_64-linux-gnu/libc.so.6";
  base.body = image;
  events.push_back(base);
  base.body = ProcessEnd{};
  events.push_back(base);
  return events;
}

std::vector<rules::RuleSpec> RecorderRules() {
  std::vector<rules::RuleSpec> out;
  auto add = [&](const char* action, std::vector<std::string> syscalls) {
    rules::RuleSpec spec;
    spec.action = action;
    spec.arch = "b64";
    spec.syscalls = std::move(syscalls);
    spec.key = "recorder";
    out.push_back(std::move(spec));
  };
  add("never", {"all"});
  add("always", {"execve", "exit_group"});
  add("always", {"openat", "unlink", "rename", "chmod"});
  add("always", {"connect", "accept4"});
  add("always", {"setuid"});
  add("always", {"init_module"});
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<TypedEvent> events = SampleEvents();
  static const std::vector<rules::RuleSpec> recorder_rules = RecorderRules();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<FilterText> watchlist;
  std::string filters(input);
  if (size_t split = input.find("\n%%\n"); split != std::string_view::npos) {
    filters = std::string(input.substr(0, split));
    watchlist = FilterText{"watchlist.json", std::string(input.substr(split + 4))};
  }
  const bool only_root = size % 2 == 0;
  Result<LoadedFilters> loaded = CompileFilterTexts(
      {{"filters.json", filters}, {"im_filters.json", filters}}, watchlist, only_root);
  if (!loaded.ok()) return 0;
  MatchScratch scratch;
  size_t kept = 0;
  for (const TypedEvent& e : events) kept += loaded->filters->Keep(e, nullptr, &scratch);
  const FilterConfig& config = loaded->filters->config();
  const std::string text = FiltersToText(config);
  const std::string json = FiltersToJson(config).dump();
  rules::PushdownPlan plan = rules::PlanPushdown(config, recorder_rules);
  std::vector<rules::RuleSpec> all = rules::WithPushdown(recorder_rules, plan.rules);
  return static_cast<int>((kept + text.size() + json.size() + all.size()) & 0);
}
