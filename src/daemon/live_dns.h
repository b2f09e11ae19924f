// MonitorDNS in a live run: the capture (source/dns_capture.h, its own
// thread) and the joiner (normalize/dns_joiner.h) turned into DnsEvents
// on the event path, through the same sink as the image loads. Events
// wait kDnsHoldMs after their query before they go on, so the asking
// process's exec (an audit event that may come later) is in the process
// table first and the row joins to it. Called from the event loop only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "config/config.h"
#include "daemon/recording_sink.h"
#include "normalize/dns_joiner.h"
#include "source/dns_capture.h"

namespace recorder::daemon {

struct DnsStatus {
  bool enabled = false;
  config::DnsCaptureChoice choice = config::DnsCaptureChoice::kAuto;  // dnsCapture
  source::DnsCaptureMechanism mechanism = source::DnsCaptureMechanism::kNone;
  std::string error;        // why nothing runs, or why BPF was not used
  std::string attached_to;  // the cgroup v2 mount (cgroup-bpf)
  source::DnsCaptureStats capture;
  DnsJoinerStats joiner;
  size_t pending = 0;  // queries waiting for their answer
  size_t held = 0;     // events waiting out the hold time
};

// A captured packet as the joiner takes it: this machine's end is the
// source of an outgoing packet and the destination of an incoming one.
DnsPacket JoinerPacket(const source::CapturedDnsPacket& p);

class LiveDns {
 public:
  explicit LiveDns(source::DnsCaptureOptions options = {}) : options_(std::move(options)) {}
  ~LiveDns();  // stops the capture (detaches the programs)

  // Starts the capture when `enabled` and not running (a failed start
  // is retried here, and reported in status) with the mechanisms `choice`
  // allows, restarting it when the choice changed; stops it otherwise,
  // handing what it holds to `out`.
  Status Configure(bool enabled, config::DnsCaptureChoice choice, RecordingSink* out,
                   int64_t now_wall);
  // Moves joined events into the event path: those whose query is older
  // than the hold time, or all (with every unanswered query) when `all`.
  Status Feed(RecordingSink* out, int64_t now_wall, bool all);
  // At shutdown: stops the capture and feeds everything.
  Status Finish(RecordingSink* out, int64_t now_wall) { return Stop(out, now_wall); }

  DnsStatus status(bool enabled) const;

 private:
  Status Stop(RecordingSink* out, int64_t now_wall);
  void Drain(std::vector<TypedEvent>* ready);

  source::DnsCaptureOptions options_;
  std::unique_ptr<source::DnsCapture> capture_;
  config::DnsCaptureChoice choice_ = config::DnsCaptureChoice::kAuto;  // of capture_
  DnsJoiner joiner_;
  std::deque<TypedEvent> held_;
  std::string error_;
  source::DnsCaptureStats stats_before_;  // of captures stopped by a reload
};

}  // namespace recorder::daemon
