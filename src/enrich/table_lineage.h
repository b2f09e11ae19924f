// The process table as the filter stage's ProcessLineage: the filter asks
// about a subject's instance and its ancestors, the table (the one model
// of processes) answers. Borrowed table; same thread as its owner.
#pragma once

#include "enrich/process_table.h"
#include "filter/process_lineage.h"

namespace recorder::enrich {

class TableLineage : public filter::ProcessLineage {
 public:
  explicit TableLineage(const ProcessTable* table) : table_(table) {}
  bool Instance(std::string_view node, int32_t pid, int64_t start_ms, int64_t at_ms,
                filter::ProcessFacts* out) const override;

 private:
  const ProcessTable* table_;
};

}  // namespace recorder::enrich
