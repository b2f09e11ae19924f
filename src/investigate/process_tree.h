// Processes as an investigation sees them: one instance by process_id or
// by pid at a time, its ancestry, and its descendants as a tree in which
// repeated identical children are collapsed into one counted node.
//
// The queries read the `processes` view on a connection the caller owns
// (investigation_db.h); they return plain structs, errors as values. The
// tree's shape is decided by AssembleTree, a pure function, so collapsing
// and depth limits are tested without a database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_db.h"
#include "util/status.h"

namespace recorder::investigate {

// One row of the `processes` view (docs/schema.md); empty strings stand
// for NULL text.
struct ProcessInfo {
  int64_t process_id = 0;
  int64_t pid = 0;
  std::optional<int64_t> ppid;
  std::optional<int64_t> parent_process_id;
  std::optional<int64_t> start_time;  // ms since the epoch
  std::optional<int64_t> end_time;
  std::optional<int64_t> exit_code;
  std::string exe;
  std::string cmdline;
  std::string argv;  // JSON array text
  std::string cwd;
  std::optional<int64_t> uid, euid, auid, session;
  std::string user, euser, login_user;
  std::string tty;
  std::string sha256, md5, hash_note;
  std::string comm;
  std::string node;
  bool placeholder = false;
  // In an ancestry: this row's link to the process below it is inferred
  // (that process's parent_process_id is NULL, so its parent was found by
  // ppid and time: InferParent), not recorded.
  bool inferred = false;
};

// kNotFound ("no process with process_id N") when there is no such row.
Result<ProcessInfo> LoadProcess(store::Database& db, int64_t process_id);

// The instance of `pid` alive at `at_ms`: started at or before it (or
// start unknown) and not ended before it; of several (a pid reused, or
// exec'd again), the latest started. kNotFound when none was.
Result<int64_t> FindProcessAt(store::Database& db, int64_t pid, int64_t at_ms);

// The parent of `child` when the store recorded none (parent_process_id
// NULL): the instance of its ppid on the same node alive at its start (as
// FindProcessAt picks it). nullopt when the ppid or start is unknown, or no
// such instance is recorded.
Result<std::optional<int64_t>> InferParent(store::Database& db, const ProcessInfo& child);

// Parents of `process`, nearest first, up to the first one recorded. A
// NULL parent_process_id is followed by InferParent (the parent so found
// is marked `inferred`); a parent with no row ends the chain.
Result<std::vector<ProcessInfo>> LoadAncestry(store::Database& db, const ProcessInfo& process);

// A node of a descendant tree. A collapsed node stands for `count`
// siblings that ran the same command line as the same user with the same
// exit code and had no children: `process` is the first of them.
struct TreeNode {
  ProcessInfo process;
  int64_t count = 1;
  std::optional<int64_t> last_start;  // of a collapsed group: the latest start
  std::vector<TreeNode> children;
  int64_t hidden_children = 0;  // children not shown: below the depth limit
};

struct ProcessTree {
  std::vector<ProcessInfo> ancestors;  // the root-most first
  TreeNode root;                       // the process asked for
};

// The tree under `root` from `descendants` (rows whose parent chain leads
// to `root`, in any order), `max_depth` levels deep (0: the root alone;
// deeper rows are counted in hidden_children). Children are in start
// order (placeholders without a start by their process_id).
TreeNode AssembleTree(const ProcessInfo& root, const std::vector<ProcessInfo>& descendants,
                      int max_depth);

// Ancestry and descendants of `process_id`, `max_depth` levels down.
Result<ProcessTree> LoadTree(store::Database& db, int64_t process_id, int max_depth);

}  // namespace recorder::investigate
