#include "investigate/process_tree.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace recorder::investigate {
namespace {

constexpr std::string_view kProcessColumns =
    "process_id, pid, ppid, parent_process_id, start_time, end_time, exit_code, exe, cmdline, "
    "argv, cwd, uid, euid, auid, session, user, euser, login_user, tty, sha256, md5, hash_note, "
    "comm, node, placeholder";

std::optional<int64_t> OptionalInt(const store::Statement& s, int col) {
  if (s.ColumnType(col) == SQLITE_NULL) return std::nullopt;
  return s.ColumnInt(col);
}

ProcessInfo ReadProcess(const store::Statement& s) {
  ProcessInfo p;
  p.process_id = s.ColumnInt(0);
  p.pid = s.ColumnInt(1);
  p.ppid = OptionalInt(s, 2);
  p.parent_process_id = OptionalInt(s, 3);
  p.start_time = OptionalInt(s, 4);
  p.end_time = OptionalInt(s, 5);
  p.exit_code = OptionalInt(s, 6);
  p.exe = s.ColumnText(7);
  p.cmdline = s.ColumnText(8);
  p.argv = s.ColumnText(9);
  p.cwd = s.ColumnText(10);
  p.uid = OptionalInt(s, 11);
  p.euid = OptionalInt(s, 12);
  p.auid = OptionalInt(s, 13);
  p.session = OptionalInt(s, 14);
  p.user = s.ColumnText(15);
  p.euser = s.ColumnText(16);
  p.login_user = s.ColumnText(17);
  p.tty = s.ColumnText(18);
  p.sha256 = s.ColumnText(19);
  p.md5 = s.ColumnText(20);
  p.hash_note = s.ColumnText(21);
  p.comm = s.ColumnText(22);
  p.node = s.ColumnText(23);
  p.placeholder = s.ColumnInt(24) != 0;
  return p;
}

// Start order; a placeholder without a start sorts by its end (it
// started before that), and without either first.
bool StartsBefore(const ProcessInfo& a, const ProcessInfo& b) {
  const int64_t a_start = a.start_time.value_or(a.end_time.value_or(-1));
  const int64_t b_start = b.start_time.value_or(b.end_time.value_or(-1));
  return std::tie(a_start, a.process_id) < std::tie(b_start, b.process_id);
}

using ChildMap = std::unordered_map<int64_t, std::vector<const ProcessInfo*>>;

TreeNode Build(const ProcessInfo& process, const ChildMap& children, int depth_left,
               std::set<int64_t>* seen) {
  TreeNode node;
  node.process = process;
  auto it = children.find(process.process_id);
  if (it == children.end()) return node;
  if (depth_left <= 0) {
    node.hidden_children = static_cast<int64_t>(it->second.size());
    return node;
  }
  // Leaf siblings with the same command, user and exit code become one
  // counted node, placed where the first of them started. Placeholders
  // have no command to compare, so each keeps its line.
  using Key = std::tuple<std::string, std::string, std::string, std::optional<int64_t>>;
  std::map<Key, size_t> group_of;  // key -> index in node.children
  for (const ProcessInfo* child : it->second) {
    if (!seen->insert(child->process_id).second) continue;  // a cycle in damaged data
    const bool leaf = children.find(child->process_id) == children.end();
    if (leaf && !child->cmdline.empty()) {
      Key key{child->exe, child->cmdline, child->user, child->exit_code};
      auto [group, fresh] = group_of.emplace(key, node.children.size());
      if (!fresh) {
        TreeNode& collapsed = node.children[group->second];
        ++collapsed.count;
        collapsed.last_start = child->start_time;
        continue;
      }
    }
    node.children.push_back(Build(*child, children, depth_left - 1, seen));
  }
  return node;
}

// The row of `process_id` through `stmt` (kProcessById, reused: an
// ancestry reads one row per level).
Result<ProcessInfo> ReadProcessById(store::Statement& stmt, int64_t process_id) {
  stmt.Reset();
  stmt.BindInt(1, process_id);
  Result<bool> row = stmt.Step();
  if (!row.ok()) return row.status();
  if (!*row)
    return Status::Errorf(StatusCode::kNotFound, "no process with process_id {}", process_id);
  return ReadProcess(stmt);
}

std::string ProcessByIdSql() {
  return fmt::format("SELECT {} FROM processes WHERE process_id = ?", kProcessColumns);
}

}  // namespace

Result<ProcessInfo> LoadProcess(store::Database& db, int64_t process_id) {
  auto stmt = db.Prepare(ProcessByIdSql());
  if (!stmt.ok()) return stmt.status();
  return ReadProcessById(**stmt, process_id);
}

Result<int64_t> FindProcessAt(store::Database& db, int64_t pid, int64_t at_ms) {
  auto stmt = db.Prepare(
      "SELECT process_id FROM processes WHERE pid = ?1"
      " AND (start_time IS NULL OR start_time <= ?2) AND (end_time IS NULL OR end_time >= ?2)"
      " ORDER BY start_time IS NULL, start_time DESC, process_id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  (*stmt)->BindInt(1, pid);
  (*stmt)->BindInt(2, at_ms);
  Result<bool> row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row)
    return Status::Errorf(StatusCode::kNotFound, "no process with pid {} was alive at that time",
                          pid);
  return (*stmt)->ColumnInt(0);
}

Result<std::optional<int64_t>> InferParent(store::Database& db, const ProcessInfo& child) {
  if (!child.ppid || !child.start_time) return std::optional<int64_t>();
  auto stmt = db.Prepare(
      "SELECT process_id FROM process_data WHERE pid = ?1"
      " AND node_id = (SELECT node_id FROM process_data WHERE process_id = ?2)"
      " AND process_id != ?2"
      " AND (start_time IS NULL OR start_time <= ?3) AND (end_time IS NULL OR end_time >= ?3)"
      " ORDER BY start_time IS NULL, start_time DESC, process_id DESC LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  (*stmt)->BindInt(1, *child.ppid);
  (*stmt)->BindInt(2, child.process_id);
  (*stmt)->BindInt(3, *child.start_time);
  Result<bool> row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  return std::optional<int64_t>((*stmt)->ColumnInt(0));
}

Result<std::vector<ProcessInfo>> LoadAncestry(store::Database& db, const ProcessInfo& process) {
  std::vector<ProcessInfo> chain;
  std::set<int64_t> seen{process.process_id};
  const ProcessInfo* child = &process;
  ProcessInfo last;
  auto by_id = db.Prepare(ProcessByIdSql());
  if (!by_id.ok()) return by_id.status();
  for (;;) {
    std::optional<int64_t> parent = child->parent_process_id;
    bool inferred = false;
    if (!parent) {
      Result<std::optional<int64_t>> found = InferParent(db, *child);
      if (!found.ok()) return found.status();
      parent = *found;
      inferred = true;
    }
    if (!parent || !seen.insert(*parent).second) break;
    Result<ProcessInfo> row = ReadProcessById(**by_id, *parent);
    if (!row.ok()) {
      if (row.status().code() == StatusCode::kNotFound) break;  // aged out by retention
      return row.status();
    }
    row->inferred = inferred;
    chain.push_back(std::move(*row));
    last = chain.back();
    child = &last;
  }
  return chain;
}

TreeNode AssembleTree(const ProcessInfo& root, const std::vector<ProcessInfo>& descendants,
                      int max_depth) {
  std::vector<const ProcessInfo*> ordered;
  ordered.reserve(descendants.size());
  for (const ProcessInfo& p : descendants) ordered.push_back(&p);
  std::sort(ordered.begin(), ordered.end(),
            [](const ProcessInfo* a, const ProcessInfo* b) { return StartsBefore(*a, *b); });
  ChildMap children;
  for (const ProcessInfo* p : ordered)
    if (p->parent_process_id && p->process_id != root.process_id)
      children[*p->parent_process_id].push_back(p);
  std::set<int64_t> seen{root.process_id};
  return Build(root, children, max_depth, &seen);
}

Result<ProcessTree> LoadTree(store::Database& db, int64_t process_id, int max_depth) {
  Result<ProcessInfo> root = LoadProcess(db, process_id);
  if (!root.ok()) return root.status();
  ProcessTree tree;
  Result<std::vector<ProcessInfo>> ancestry = LoadAncestry(db, *root);
  if (!ancestry.ok()) return ancestry.status();
  tree.ancestors.assign(ancestry->rbegin(), ancestry->rend());
  // One level past the limit, so the deepest shown nodes can say how
  // many children they hide; the depth bound also ends a cycle.
  auto stmt = db.Prepare(fmt::format(
      "WITH RECURSIVE below(id, depth) AS ("
      " SELECT process_id, 1 FROM process_data WHERE parent_process_id = ?1 AND process_id != ?1"
      " UNION SELECT p.process_id, below.depth + 1 FROM process_data p"
      " JOIN below ON p.parent_process_id = below.id WHERE below.depth <= ?2)"
      " SELECT {} FROM processes WHERE process_id IN (SELECT id FROM below)",
      kProcessColumns));
  if (!stmt.ok()) return stmt.status();
  (*stmt)->BindInt(1, process_id);
  (*stmt)->BindInt(2, max_depth);
  std::vector<ProcessInfo> descendants;
  for (;;) {
    Result<bool> row = (*stmt)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    descendants.push_back(ReadProcess(**stmt));
  }
  tree.root = AssembleTree(*root, descendants, max_depth);
  return tree;
}

}  // namespace recorder::investigate
