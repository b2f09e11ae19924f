// Process identity: which process an event is.
//
// This module decides it, in two steps over one key:
//   - ProcessTable (process_table.h) names the event's process *instance*,
//     (node, pid, start): one program image of one pid on one machine. The
//     enrich stage asks it and writes the start into the event
//     (Enrichment::process_start_ms, parent_start_ms).
//   - ProcessRows (process_rows.h) turns that instance, or a pid whose
//     instance is unknown, into the process_id of its row in process_data:
//     pid reuse, placeholders for processes never seen to exec, expiry.
//     The store asks it for every event it writes; retention asks its rule
//     (RowTakesOverPid, PidSuccession) which stored rows a pid's new events
//     can still reach.
// Nothing else keeps its own idea of which process a pid is.
//
// Node: a pid means something only on its machine. A replayed log can
// hold several (`node=` in each record), so every key carries a node
// number. The owner of a table numbers the nodes it sees: ProcessTable
// its own dense numbers (0 = this machine), the store the string id of
// the node name in its database.
#pragma once

#include <cstddef>
#include <cstdint>

namespace recorder::enrich {

// A pid on a node.
struct ProcessKey {
  uint32_t node = 0;
  int32_t pid = 0;

  uint64_t packed() const {
    return (static_cast<uint64_t>(node) << 32) | static_cast<uint32_t>(pid);
  }
  bool operator==(const ProcessKey&) const = default;
};

// The key of a stored row: the store numbers nodes by their name's string
// id in its database (the same ids as process_data.node_id).
inline ProcessKey StoredProcessKey(int64_t node_id, int64_t pid) {
  return {static_cast<uint32_t>(node_id), static_cast<int32_t>(pid)};
}

// A process instance: the image of `process` that started at `start_ms`.
struct InstanceKey {
  ProcessKey process;
  int64_t start_ms = -1;

  bool operator==(const InstanceKey&) const = default;
};

struct InstanceKeyHash {
  size_t operator()(const InstanceKey& key) const {
    uint64_t h = key.process.packed() * 0x9E3779B97F4A7C15ULL;
    h ^= static_cast<uint64_t>(key.start_ms) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

}  // namespace recorder::enrich
