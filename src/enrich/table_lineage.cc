#include "enrich/table_lineage.h"

namespace recorder::enrich {

bool TableLineage::Instance(std::string_view node, int32_t pid, int64_t start_ms, int64_t at_ms,
                            filter::ProcessFacts* out) const {
  const std::optional<uint32_t> number = table_->FindNode(node);
  if (!number) return false;  // a host the table has seen no event of
  const ProcessKey key{*number, pid};
  const ProcessInfo* info = start_ms >= 0 ? table_->Find(key, start_ms) : nullptr;
  // The running instance, else the last one started by then: an image
  // load is stamped after the fact, and a parent may have exited.
  if (info == nullptr) info = table_->LookupLatestStarted(key, at_ms);
  if (info == nullptr) return false;
  out->node = node;
  out->pid = info->pid;
  out->start_ms = info->start_ms;
  out->ppid = info->ppid;
  out->parent_start_ms = info->parent_start_ms;
  out->exe = info->exe;
  out->argv = table_->options().keep_argv ? &info->argv : nullptr;
  out->uid = info->uid;
  out->auid = info->auid;
  return true;
}

}  // namespace recorder::enrich
