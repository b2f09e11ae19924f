// Test helpers for the stages behind enrichment (filters, signals): the
// front of the sink chain as the recorder wires it, and a sink at its end
// that keeps what reached it.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "enrich/enriching_sink.h"
#include "enrich/process_table.h"
#include "enrich/table_lineage.h"
#include "normalize/event_sink.h"

namespace recorder::chain_test {

// The end of a chain: every event that reached it, in order.
class CollectingSink : public EventSink {
 public:
  Status Consume(EventBatch* events) override {
    for (const TypedEvent& e : *events) kept.push_back(e);
    ++batches;
    return Status::Ok();
  }
  std::vector<TypedEvent> kept;
  int batches = 0;
};

// The enrich stage in front of the stages under test: a process table
// that knows only what the events tell it (no /proc), its lineage for the
// stages after it, and an enricher that does not hash. A test's chain
// derives from it, builds its stages on `lineage`, and names the first
// of them with Front().
class EnrichFront {
 public:
  EnrichFront() = default;
  EnrichFront(const EnrichFront&) = delete;
  EnrichFront& operator=(const EnrichFront&) = delete;

  // One batch into the enricher, which hands it down the chain.
  Status Feed(std::vector<TypedEvent> events) {
    EventBatch batch;
    for (TypedEvent& e : events) batch.push_back(std::move(e));
    return enricher_->Consume(&batch);
  }

  enrich::ProcessTable table{[] {
    enrich::ProcessTableOptions o;
    o.proc_root = "/nonexistent";
    return o;
  }()};
  enrich::TableLineage lineage{&table};

 protected:
  void Front(EventSink* first) {
    enrich::EnrichingSinkOptions o;
    o.hash_executables = false;
    enricher_ = std::make_unique<enrich::EnrichingSink>(first, &table, nullptr, nullptr, o);
  }

 private:
  std::unique_ptr<enrich::EnrichingSink> enricher_;
};

}  // namespace recorder::chain_test
