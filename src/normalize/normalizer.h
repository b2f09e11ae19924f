// Whole audit events -> typed events (process, file, network, security,
// module). The mapping table is documented in docs/normalization.md.
//
// Pure apart from a little state it carries between events (bind
// addresses by pid and fd, so a later listen() knows its address; the
// typed events held while a PATH search may be under way, see
// path_search.h). Time comes in as arguments. Not thread-safe: one owner
// calls it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "assemble/audit_event.h"
#include "normalize/event_batch.h"
#include "normalize/path_search.h"
#include "normalize/typed_event.h"

namespace recorder {

struct NormalizerOptions {
  bool keep_unix_sockets = false;  // AF_UNIX connect/bind/accept are dropped unless set
  // accept(fd, NULL, NULL) on a listener whose bind was not seen carries
  // no address at all: kept (family unknown, NetworkEvent::accepted_fd
  // set) for a live enrich stage that looks both sides up in the kernel
  // (enrich/socket_ports.h) and drops those that are no TCP accept.
  // Dropped here otherwise (replay: most are AF_UNIX, and nothing can
  // tell).
  bool keep_unaddressed_accepts = false;
  // Sockets remembered between events (socket() transport, bind()
  // address by pid and fd), least recently used dropped first.
  size_t max_tracked_sockets = 4096;
};

struct NormalizerStats {
  uint64_t events_in = 0;
  uint64_t process_start = 0;
  uint64_t process_end = 0;
  uint64_t file = 0;
  uint64_t network = 0;
  uint64_t security = 0;
  uint64_t module = 0;
  uint64_t failed_exec = 0;
  uint64_t path_search_attempts = 0;  // ENOENT execs folded into the exec that followed
  uint64_t ignored = 0;  // events with nothing the recorder stores (CONFIG_CHANGE, ...)
  uint64_t partial = 0;  // typed events derived from an incomplete audit event
};

class Normalizer {
 public:
  explicit Normalizer(NormalizerOptions options = {});
  ~Normalizer();
  Normalizer(const Normalizer&) = delete;
  Normalizer& operator=(const Normalizer&) = delete;

  // Appends the typed events derived from `event` (zero, one, or more:
  // an execve whose euid differs from uid is a process start and a
  // privilege change) to *out. While a PATH search may be under way they
  // are held instead, and go on, in order, after the earlier ones once it
  // is decided (path_search.h).
  void Normalize(const AuditEvent& event, EventBatch* out);
  // Appends the held typed events if the first of them came before
  // `now_ms` - PathSearches::kWindowMs (ms since the epoch: the clock of
  // the events' own times).
  void Age(int64_t now_ms, EventBatch* out);
  // Appends every held typed event: the end of the input.
  void Flush(EventBatch* out);

  const NormalizerStats& stats() const { return stats_; }

 private:
  struct State;
  // Counts the events (*out)[first, size) by kind.
  void Count(const EventBatch& out, size_t first);

  NormalizerOptions options_;
  NormalizerStats stats_;
  std::unique_ptr<State> state_;
  PathSearches path_searches_;
};

}  // namespace recorder
