// Process table against a fake /proc tree the test writes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "enrich/process_table.h"
#include "temp_dir.h"

namespace recorder::enrich {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kBootSeconds = 1'700'000'000;
constexpr int64_t kBootMs = kBootSeconds * 1000;

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class FakeProc {
 public:
  FakeProc() {
    WriteFile(root_ / "stat", fmt::format("cpu  1 2 3\nbtime {}\nprocesses 9\n", kBootSeconds));
    WriteFile(root_ / "sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n");
  }

  // start_ticks: clock ticks (1/100 s) after boot.
  void AddProcess(int pid, int ppid, int64_t start_ticks, const std::string& exe,
                  const std::vector<std::string>& argv, int uid = 0, int euid = 0) {
    fs::path dir = root_ / std::to_string(pid);
    fs::remove_all(dir);
    // A comm with ") " in it: the parser must split on the last ')'.
    WriteFile(dir / "stat",
              fmt::format("{} (we ird) x) S {} 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {} 1000 0\n",
                          pid, ppid, start_ticks));
    std::string cmdline;
    for (const auto& a : argv) cmdline += a + '\0';
    WriteFile(dir / "cmdline", cmdline);
    WriteFile(
        dir / "status",
        fmt::format("Name:\tx\nUid:\t{0}\t{1}\t{1}\t{1}\nGid:\t{0}\t{0}\t{0}\t{0}\n", uid, euid));
    WriteFile(dir / "loginuid", uid == 0 ? "4294967295" : std::to_string(uid));
    fs::create_symlink(exe, dir / "exe");
  }
  void Remove(int pid) { fs::remove_all(root_ / std::to_string(pid)); }
  std::string root() const { return root_.string(); }
  fs::path file(const std::string& name) const { return root_ / name; }

 private:
  TempDir temp_{"enrich-proc"};
  fs::path root_ = temp_.path();
};

int64_t StartMs(int64_t ticks) { return kBootMs + ticks * 10; }

// init(1) -> sshd(100) -> bash(200) -> vim(300)
void AddTree(FakeProc* proc) {
  proc->AddProcess(1, 0, 1, "/usr/lib/systemd/systemd", {"/sbin/init"});
  proc->AddProcess(100, 1, 500, "/usr/sbin/sshd", {"sshd: /usr/sbin/sshd -D"});
  proc->AddProcess(200, 100, 9000, "/usr/bin/bash", {"-bash"}, 1000, 1000);
  proc->AddProcess(300, 200, 12000, "/usr/bin/vim.basic", {"vim", "a b.txt", ""}, 1000, 1000);
}

std::vector<int32_t> Pids(const std::vector<const ProcessInfo*>& chain) {
  std::vector<int32_t> pids;
  for (const ProcessInfo* p : chain) pids.push_back(p->pid);
  return pids;
}

ProcessTableOptions Options(const FakeProc& proc) {
  ProcessTableOptions options;
  options.proc_root = proc.root();
  return options;
}

Subject Ids(int uid) {
  Subject s;
  s.uid = s.euid = s.gid = s.egid = uid;
  s.auid = uid;
  return s;
}

// Every test starts from AddTree's processes in a fake /proc, at t0.
class ProcessTableTest : public ::testing::Test {
 protected:
  ProcessTableTest() { AddTree(&proc); }

  FakeProc proc;
  const int64_t t0 = StartMs(20000);
};

TEST_F(ProcessTableTest, SeedReadsProcAndBuildsAncestry) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  EXPECT_EQ(table.size(), 4u);

  const ProcessInfo* vim = table.Lookup(300, t0);
  ASSERT_NE(vim, nullptr);
  EXPECT_EQ(vim->ppid, 200);
  EXPECT_EQ(vim->exe, "/usr/bin/vim.basic");
  EXPECT_EQ(vim->argv, (std::vector<std::string>{"vim", "a b.txt", ""}));
  EXPECT_EQ(vim->start_ms, StartMs(12000));
  EXPECT_EQ(vim->task_start_ticks, 12000);
  EXPECT_EQ(vim->uid, 1000);
  EXPECT_EQ(vim->auid, 1000);
  EXPECT_EQ(vim->origin, ProcessOrigin::kSeed);
  EXPECT_EQ(vim->parent_start_ms, StartMs(9000));
  EXPECT_EQ(table.Lookup(1, t0)->auid, kUnsetId);  // loginuid 4294967295

  EXPECT_EQ(Pids(table.Ancestry(300, t0)), (std::vector<int32_t>{300, 200, 100, 1}));
  EXPECT_EQ(Pids(table.Ancestry(300, t0, 2)), (std::vector<int32_t>{300, 200}));
  EXPECT_EQ(table.Lookup(999, t0), nullptr);
}

TEST_F(ProcessTableTest, SeedFailsWithoutProc) {
  ProcessTableOptions options;
  options.proc_root = "/nonexistent/proc";
  ProcessTable table(options);
  EXPECT_FALSE(table.SeedFromProc(0).ok());
}

TEST_F(ProcessTableTest, ExecStartsNewInstanceUnderItsParent) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());

  // bash forks 301 (not audited) which execs ls.
  table.OnExec(301, 200, t0 + 100, "/usr/bin/ls", {"ls", "-l"}, Ids(1000));
  const ProcessInfo* ls = table.Lookup(301, t0 + 100);
  ASSERT_NE(ls, nullptr);
  EXPECT_EQ(ls->start_ms, t0 + 100);
  EXPECT_EQ(ls->origin, ProcessOrigin::kExec);
  EXPECT_EQ(ls->parent_start_ms, StartMs(9000));
  EXPECT_EQ(ls->previous_start_ms, -1);
  EXPECT_EQ(Pids(table.Ancestry(301, t0 + 150)), (std::vector<int32_t>{301, 200, 100, 1}));

  // vim runs `exec`: same process, new image, linked to the old one.
  table.OnExec(300, 200, t0 + 200, "/usr/bin/sh", {"sh", "-c", "make"}, Ids(1000));
  const ProcessInfo* sh = table.Lookup(300, t0 + 250);
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->exe, "/usr/bin/sh");
  EXPECT_EQ(sh->previous_start_ms, StartMs(12000));
  EXPECT_EQ(sh->task_start_ticks, 12000);  // still the same task
  const ProcessInfo* old_vim = table.Lookup(300, t0 + 150);
  ASSERT_NE(old_vim, nullptr);
  EXPECT_EQ(old_vim->exe, "/usr/bin/vim.basic");
  EXPECT_EQ(old_vim->end_ms, t0 + 200);
  EXPECT_FALSE(old_vim->exited);
}

TEST_F(ProcessTableTest, ExitThenExpiration) {
  ProcessTableOptions options = Options(proc);
  options.expiration_seconds = 180;
  ProcessTable table(options);
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  table.OnExec(301, 200, t0 + 10, "/usr/bin/ls", {"ls"}, Ids(1000));
  table.OnExit(301, t0 + 20);

  ASSERT_NE(table.Lookup(301, t0 + 20), nullptr);  // the exit event itself
  EXPECT_TRUE(table.Lookup(301, t0 + 20)->exited);
  EXPECT_EQ(table.Lookup(301, t0 + 21), nullptr);  // dead afterwards
  ASSERT_NE(table.Lookup(301, t0 + 15), nullptr);  // a late event from while it ran

  table.Age(t0 + 20 + 179'999);
  EXPECT_NE(table.Find(301, t0 + 10), nullptr);
  table.Age(t0 + 20 + 180'000);
  EXPECT_EQ(table.Find(301, t0 + 10), nullptr);
  EXPECT_EQ(table.stats().expired, 1u);
}

TEST_F(ProcessTableTest, EndedParentStaysWhileAChildRuns) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  table.OnExit(200, t0 + 10);  // bash exits, vim (300) keeps running
  table.Age(t0 + 10'000'000);
  EXPECT_EQ(Pids(table.Ancestry(300, t0 + 10'000'000)), (std::vector<int32_t>{300, 200, 100, 1}));
  table.OnExit(300, t0 + 10'000'001);
  table.Age(t0 + 20'000'000);
  EXPECT_EQ(table.Find(200, StartMs(9000)), nullptr);
  EXPECT_EQ(table.Find(300, StartMs(12000)), nullptr);
}

TEST_F(ProcessTableTest, RecycledPidNeverLinksToOldHistory) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());

  // 300 exits; later a new process gets pid 300 from sshd.
  table.OnExit(300, t0 + 10);
  table.OnExec(300, 100, t0 + 5000, "/usr/bin/id", {"id"}, Ids(0));
  const ProcessInfo* id = table.Lookup(300, t0 + 5000);
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->previous_start_ms, -1);
  EXPECT_EQ(id->task_start_ticks, -1);
  EXPECT_EQ(Pids(table.Ancestry(300, t0 + 5000)), (std::vector<int32_t>{300, 100, 1}));
  // The old instance is still there for its own late events.
  EXPECT_EQ(table.Lookup(300, t0 + 5)->exe, "/usr/bin/vim.basic");

  // Exit never seen: pid 301 ran under bash (alive); now an exec of 301
  // under sshd is a different process, not an exec of the old one.
  table.OnExec(301, 200, t0 + 6000, "/usr/bin/sleep", {"sleep", "9"}, Ids(1000));
  table.OnExec(301, 100, t0 + 7000, "/usr/bin/true", {"true"}, Ids(0));
  const ProcessInfo* fresh = table.Lookup(301, t0 + 7000);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->previous_start_ms, -1);
  EXPECT_TRUE(table.Find(301, t0 + 6000)->exited);
}

TEST_F(ProcessTableTest, ForkCopiesParentImageUntilExec) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  table.OnFork(200, 500, t0 + 1);
  const ProcessInfo* child = table.Lookup(500, t0 + 2);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->exe, "/usr/bin/bash");
  EXPECT_EQ(child->origin, ProcessOrigin::kFork);
  EXPECT_EQ(child->parent_start_ms, StartMs(9000));
  table.OnExec(500, 200, t0 + 3, "/usr/bin/make", {"make"}, Ids(1000));
  EXPECT_EQ(table.Lookup(500, t0 + 3)->previous_start_ms, t0 + 1);
  EXPECT_EQ(Pids(table.Ancestry(500, t0 + 3)), (std::vector<int32_t>{500, 200, 100, 1}));
}

TEST_F(ProcessTableTest, ApplyTypedEvents) {
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());

  TypedEvent exec;
  exec.header.time_ms = t0 + 1;
  exec.subject = Ids(1000);
  exec.subject.pid = 600;
  exec.subject.ppid = 300;
  exec.subject.exe = "/usr/bin/git";
  exec.body = ProcessStart{{"git", "status"}, 2, false, "/home/a", ""};
  table.Apply(exec);
  EXPECT_EQ(table.Lookup(600, t0 + 1)->argv, (std::vector<std::string>{"git", "status"}));

  // A failed execve changes nothing.
  TypedEvent failed = exec;
  failed.header.time_ms = t0 + 2;
  failed.header.success = false;
  failed.subject.exe = "/usr/bin/git";
  table.Apply(failed);
  EXPECT_EQ(table.Lookup(600, t0 + 2)->start_ms, t0 + 1);

  // Some event from an unknown pid: an observed instance, start unknown.
  TypedEvent file;
  file.header.time_ms = t0 + 3;
  file.subject = Ids(0);
  file.subject.pid = 700;
  file.subject.ppid = 1;
  file.subject.exe = "/usr/sbin/cron";
  file.body = FileEvent{};
  table.Apply(file);
  const ProcessInfo* cron = table.Lookup(700, t0 + 3);
  ASSERT_NE(cron, nullptr);
  EXPECT_FALSE(cron->start_known);
  EXPECT_EQ(cron->parent_start_ms, StartMs(1));

  TypedEvent end = exec;
  end.header.time_ms = t0 + 4;
  end.body = ProcessEnd{0};
  table.Apply(end);
  EXPECT_TRUE(table.Lookup(600, t0 + 4)->exited);
  EXPECT_EQ(table.Lookup(600, t0 + 5), nullptr);
}

TEST_F(ProcessTableTest, SaveLoadRoundTripDropsGoneAndRecycledPids) {
  proc.AddProcess(400, 1, 15000, "/usr/sbin/cron", {"cron"});
  const std::string state = proc.file("process_state.jsonl").string();
  {
    ProcessTable table(Options(proc));
    ASSERT_TRUE(table.SeedFromProc(t0).ok());
    table.OnExec(300, 200, t0 + 100, "/usr/bin/sh", {"sh", "-c", "x\ny \xff"}, Ids(1000));
    ASSERT_TRUE(table.SaveState(state).ok());
  }
  // While we were down: 100 exited, 400 exited and its pid was recycled.
  proc.Remove(100);
  proc.AddProcess(400, 1, 19000, "/usr/bin/other", {"other"});
  // /proc shows 300's exec (same task, new exe).
  proc.AddProcess(300, 200, 12000, "/usr/bin/sh", {"sh", "-c", "x"}, 1000, 1000);

  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.LoadState(state).ok());
  const ProcessInfo* sh = table.Lookup(300, t0 + 200);
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->exe, "/usr/bin/sh");
  EXPECT_EQ(sh->argv[2], "x\ny \xEF\xBF\xBD");  // invalid UTF-8 replaced, not fatal
  EXPECT_EQ(sh->previous_start_ms, StartMs(12000));
  EXPECT_NE(table.Find(300, StartMs(12000)), nullptr);  // the image before the exec
  EXPECT_EQ(Pids(table.Ancestry(300, t0 + 200)), (std::vector<int32_t>{300, 200}));
  EXPECT_EQ(table.Lookup(100, t0 + 200), nullptr);
  EXPECT_EQ(table.Lookup(400, t0 + 200), nullptr);  // recycled: old cron dropped
  // Seeding after the load adds what the file did not have (the new 400).
  ASSERT_TRUE(table.SeedFromProc(t0 + 300).ok());
  EXPECT_EQ(table.Lookup(400, t0 + 300)->exe, "/usr/bin/other");
  EXPECT_EQ(table.Lookup(300, t0 + 300)->start_ms, t0 + 100);  // kept, not reseeded
  // An exec missed while running shows as a new image when /proc disagrees.
  proc.AddProcess(300, 200, 12000, "/usr/bin/make", {"make"}, 1000, 1000);
  ASSERT_TRUE(table.SeedOne(300, t0 + 400));
  const ProcessInfo* make = table.Lookup(300, t0 + 400);
  EXPECT_EQ(make->exe, "/usr/bin/make");
  EXPECT_EQ(make->previous_start_ms, t0 + 100);
  EXPECT_FALSE(make->start_known);
}

TEST_F(ProcessTableTest, StateFromAnotherBootLoadsNothing) {
  const std::string state = proc.file("state").string();
  ProcessTable first(Options(proc));
  ASSERT_TRUE(first.SeedFromProc(t0).ok());
  ASSERT_TRUE(first.SaveState(state).ok());
  WriteFile(proc.file("sys/kernel/random/boot_id"), "99999999-2222-3333-4444-555555555555\n");
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.LoadState(state).ok());
  EXPECT_EQ(table.size(), 0u);
}

TEST_F(ProcessTableTest, CorruptStateFileIsRejectedAndTableKept) {
  const std::string state = proc.file("state").string();
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  ASSERT_TRUE(table.SaveState(state).ok());

  std::ifstream in(state);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);

  auto expect_corrupt = [&](const std::string& text, const std::string& why) {
    WriteFile(state, text);
    ProcessTable other(Options(proc));
    other.OnExec(42, 1, 5, "/x", {"x"}, Subject{});
    Status status = other.LoadState(state);
    EXPECT_FALSE(status.ok()) << why;
    EXPECT_NE(status.message().find("corrupt"), std::string::npos) << status.message();
    EXPECT_EQ(other.size(), 1u) << why;  // unchanged
  };
  expect_corrupt("garbage\n", "not JSON");
  expect_corrupt("", "empty");
  expect_corrupt(lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n", "truncated");
  expect_corrupt(lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3] + "\n" +
                     lines[4].substr(0, lines[4].size() / 2) + "\n",
                 "cut line");
  std::string missing_field = lines[1];
  missing_field.replace(missing_field.find("\"pid\""), 5, "\"pix\"");
  expect_corrupt(
      lines[0] + "\n" + missing_field + "\n" + lines[2] + "\n" + lines[3] + "\n" + lines[4] + "\n",
      "missing field");
  EXPECT_FALSE(table.LoadState(proc.file("no-such-file").string()).ok());
}

// A replayed log of several machines: the same pid on two nodes is two
// processes, each with its own history and parents.
TypedEvent NodeEvent(const std::string& node, int32_t pid, int32_t ppid, int64_t time_ms,
                     const std::string& exe, EventBody body) {
  TypedEvent e;
  e.header.node = node;
  e.header.time_ms = time_ms;
  e.subject = Ids(0);
  e.subject.pid = pid;
  e.subject.ppid = ppid;
  e.subject.exe = exe;
  e.body = std::move(body);
  return e;
}

TEST_F(ProcessTableTest, TwoNodesWithTheSamePidNeverShareAnInstance) {
  ProcessTable table;  // a replay: nothing from /proc
  const ProcessStart exec{{"sh"}, 1, false, "/", ""};
  table.Apply(NodeEvent("web1", 4000, 1, 100, "/bin/sh", exec));
  table.Apply(NodeEvent("web2", 4000, 1, 200, "/bin/sh", exec));
  const ProcessKey web1{table.NodeOf("web1"), 4000};
  const ProcessKey web2{table.NodeOf("web2"), 4000};
  EXPECT_NE(web1.node, web2.node);
  EXPECT_NE(web1.node, kLocalNode);
  EXPECT_EQ(table.NodeOf(""), kLocalNode);

  // web2's exec did not replace web1's process.
  ASSERT_NE(table.Lookup(web1, 300), nullptr);
  EXPECT_EQ(table.Lookup(web1, 300)->start_ms, 100);
  EXPECT_TRUE(table.Lookup(web1, 300)->Running());
  EXPECT_EQ(table.Lookup(web2, 300)->start_ms, 200);
  EXPECT_EQ(table.Lookup(4000, 300), nullptr);  // nor is it this machine's

  // A child links to the parent on its own node.
  table.Apply(
      NodeEvent("web1", 4001, 4000, 400, "/bin/ls", ProcessStart{{"ls"}, 1, false, "/", ""}));
  const ProcessInfo* ls = table.Lookup({web1.node, 4001}, 400);
  ASSERT_NE(ls, nullptr);
  EXPECT_EQ(ls->parent_start_ms, 100);
  ASSERT_NE(table.Parent(*ls), nullptr);
  EXPECT_EQ(table.Parent(*ls)->node, web1.node);
  EXPECT_EQ(Pids(table.Ancestry({web1.node, 4001}, 400)), (std::vector<int32_t>{4001, 4000}));

  // An exit on one node ends only that node's process.
  table.Apply(NodeEvent("web2", 4000, 1, 500, "/bin/sh", ProcessEnd{0}));
  EXPECT_EQ(table.Lookup(web2, 600), nullptr);
  EXPECT_NE(table.Lookup(web1, 600), nullptr);
}

TEST_F(ProcessTableTest, TheHostsOwnNodeNamesAreThisMachine) {
  WriteFile(proc.file("sys/kernel/hostname"), "box.example.org\n");
  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.SeedFromProc(t0).ok());
  EXPECT_EQ(table.NodeOf("box.example.org"), kLocalNode);
  EXPECT_EQ(table.NodeOf("box"), kLocalNode);
  EXPECT_NE(table.NodeOf("other"), kLocalNode);
  // auditd naming this machine (name_format=hostname): the seeded vim.
  TypedEvent named = NodeEvent("box", 300, 200, t0, "/usr/bin/vim.basic", FileEvent{});
  table.Apply(named);
  const ProcessInfo* vim = table.Lookup(table.KeyOf(named), t0);
  ASSERT_NE(vim, nullptr);
  EXPECT_EQ(vim->origin, ProcessOrigin::kSeed);
  // Another machine's pid 300 is somebody else.
  TypedEvent remote = NodeEvent("other", 300, 200, t0, "/usr/bin/vim.basic", FileEvent{});
  table.Apply(remote);
  EXPECT_FALSE(table.Lookup(table.KeyOf(remote), t0)->start_known);
}

TEST_F(ProcessTableTest, StateFileKeepsOnlyThisMachinesProcesses) {
  const std::string state = proc.file("state").string();
  ProcessTable first(Options(proc));
  ASSERT_TRUE(first.SeedFromProc(t0).ok());
  // pid 300 on another node: /proc (this machine's) must not vouch for it.
  first.Apply(
      NodeEvent("web1", 300, 1, t0 + 1, "/bin/remote", ProcessStart{{"r"}, 1, false, "/", ""}));
  ASSERT_EQ(first.size(), 5u);
  ASSERT_TRUE(first.SaveState(state).ok());

  ProcessTable table(Options(proc));
  ASSERT_TRUE(table.LoadState(state).ok());
  EXPECT_EQ(table.size(), 4u);
  EXPECT_EQ(table.Lookup(300, t0 + 2)->exe, "/usr/bin/vim.basic");
  EXPECT_EQ(table.Lookup({table.NodeOf("web1"), 300}, t0 + 2), nullptr);
}

}  // namespace
}  // namespace recorder::enrich
