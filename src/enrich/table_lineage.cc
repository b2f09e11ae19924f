#include "enrich/table_lineage.h"

namespace recorder::enrich {

bool TableLineage::Instance(int32_t pid, int64_t start_ms, int64_t at_ms,
                            filter::ProcessFacts* out) const {
  const ProcessInfo* info = start_ms >= 0 ? table_->Find(pid, start_ms) : nullptr;
  // The running instance, else the last one started by then: an image
  // load is stamped after the fact, and a parent may have exited.
  if (info == nullptr) info = table_->LookupLatestStarted(pid, at_ms);
  if (info == nullptr) return false;
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
