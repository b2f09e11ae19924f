// Test helper for tests that touch the kernel's audit state: the rules
// that `auditctl -l` lists, and AuditStateGuard, which puts the state back
// as it found it however the test ends (an ASSERT that returns early, an
// exception). The one guard of the live tests.
//
// What the guard restores, in its destructor:
//  - stops the children the test adopted (SIGTERM, then SIGKILL), by pid;
//  - removes the rules with the test's key and with kForeignKey (the
//    "someone else's rule" tests add), and no other rule;
//  - puts back the enabled flag (never 2: an immutable kernel is left
//    alone) and the backlog limit and wait time;
//  - the audit pid: when a daemon we ran is gone but the kernel still
//    names it, it makes the kernel notice (see RestoreAuditPid).
// Then it checks the state is as found (rules, enabled flag, backlog, audit
// pid, whether an auditd runs) and fails the test where it is not: a test
// that leaves the machine changed is a failing test.
//
// A test that ends in std::terminate (a joinable std::thread destroyed, an
// exception out of a noexcept function) runs no destructor: while a guard
// lives, a terminate handler does the same restoring first, then aborts.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "run_command.h"
#include "source/netlink_source.h"
#include "source/plugin_source.h"
#include "wait_for.h"

namespace recorder::live_test {

// A rule tests load as "somebody else's": the recorder must leave it alone.
inline constexpr char kForeignKey[] = "recorder-test-foreign";
inline constexpr char kForeignRule[] =
    "-a always,exit -F arch=b64 -S sethostname -F key=recorder-test-foreign";

// The kernel's rules as `auditctl -l` prints them (syscall and watch rules).
inline std::vector<std::string> RuleLines() {
  std::vector<std::string> lines;
  std::istringstream in(RunCapture("auditctl -l"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("-a ", 0) == 0 || line.rfind("-w ", 0) == 0) lines.push_back(line);
  return lines;
}

// Rules whose key is exactly `key` (not `key-something`).
inline int CountRulesWithKey(const std::string& key) {
  int count = 0;
  for (const std::string& line : RuleLines())
    if (line.find("key=" + key) != std::string::npos &&
        line.find("key=" + key + "-") == std::string::npos)
      ++count;
  return count;
}

inline void DeleteRulesWithKey(const std::string& key) {
  for (const std::string& line : RuleLines()) {
    size_t at = line.find("key=" + key);
    if (at == std::string::npos || at + 4 + key.size() != line.size()) continue;
    // Each word quoted: the file rules' "a2&0x243" would end a shell
    // command at the '&'.
    std::string command = "auditctl -d";
    std::istringstream words(line.substr(3));
    for (std::string word; words >> word;) command += " " + ShellQuote(word);
    RunCapture(command);
  }
}

class AuditStateGuard {
 public:
  // `test_key`: the rule key of the test's rules (its recorder's).
  explicit AuditStateGuard(std::string test_key) : test_key_(std::move(test_key)) {
    Result<AuditStatus> status = ReadAuditStatus();
    usable_ = status.ok() && status->enabled != 2;
    if (!usable_) return;
    before_ = *status;
    rules_before_ = RuleLines();
    auditd_before_ = AuditdRunning();
    if (active_ == nullptr) {
      active_ = this;
      previous_terminate_ = std::set_terminate(&RestoreThenAbort);
    }
  }
  ~AuditStateGuard() {
    if (active_ == this) {
      std::set_terminate(previous_terminate_);
      active_ = nullptr;
    }
    // Not restorable (the kernel became immutable): said once, not again
    // field by field.
    if (Restore() && usable_) ExpectAsFound();
  }
  AuditStateGuard(const AuditStateGuard&) = delete;
  AuditStateGuard& operator=(const AuditStateGuard&) = delete;

  // False when the audit status cannot be read (no audit, not root) or the
  // kernel is immutable: the guard then changes nothing.
  bool usable() const { return usable_; }

  // `pid` is ours to stop when the test ends.
  void Adopt(pid_t pid) { children_.push_back(pid); }
  // The test stopped `pid` itself.
  void Forget(pid_t pid) { std::erase(children_, pid); }
  // SIGTERM, then SIGKILL after a grace period; only our own children.
  // The exit status, or -1.
  static int StopChild(pid_t pid) {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int status = WaitExit(pid, std::chrono::seconds(15));
    if (status == -1) {
      kill(pid, SIGKILL);
      status = WaitExit(pid, std::chrono::seconds(5));
    }
    return status;
  }

  const AuditStatus& before() const { return before_; }
  const std::vector<std::string>& rules_before() const { return rules_before_; }

 private:
  // Stops the children, removes the test's rules and puts back what the
  // test changed. False when the state could not be restored.
  bool Restore() {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) StopChild(*it);
    children_.clear();
    if (!usable_) return true;
    DeleteRulesWithKey(test_key_);
    DeleteRulesWithKey(kForeignKey);
    Result<AuditStatus> now = ReadAuditStatus();
    if (!now.ok() || now->enabled == 2) {
      ADD_FAILURE() << "audit state not restorable after the test: "
                    << (now.ok() ? "the kernel became immutable" : now.status().message());
      return false;
    }
    if (now->enabled != before_.enabled)
      RunCapture("auditctl -e " + std::to_string(before_.enabled));
    if (now->backlog_limit != before_.backlog_limit)
      RunCapture("auditctl -b " + std::to_string(before_.backlog_limit));
    if (now->backlog_wait_time != before_.backlog_wait_time)
      RunCapture("auditctl --backlog_wait_time " + std::to_string(before_.backlog_wait_time));
    RestoreAuditPid();
    return true;
  }

  static void RestoreThenAbort() {
    std::fflush(stdout);  // the test's failures so far, which abort would lose
    if (AuditStateGuard* guard = active_) {
      active_ = nullptr;  // once, should restoring itself terminate
      std::fprintf(stderr, "std::terminate in a live test: restoring the audit state first\n");
      guard->Restore();
    }
    // The standard handler says which exception, if any, then aborts.
    if (previous_terminate_ != nullptr) previous_terminate_();
    std::abort();
  }

  // A daemon the test ran can leave the kernel naming it after it died: the
  // kernel drops a registered pid only when a send to it fails
  // (kauditd_send_queue -> auditd_reset). A user message (`auditctl -m`)
  // is such a send. A holder that is alive is not ours to unregister.
  void RestoreAuditPid() {
    Result<AuditStatus> now = ReadAuditStatus();
    if (!now.ok() || now->pid == before_.pid || now->pid == 0) return;
    if (kill(static_cast<pid_t>(now->pid), 0) == 0 || errno != ESRCH) return;
    WaitFor(
        [&] {
          RunCapture("auditctl -m 'recorder test: audit pid check'");
          Result<AuditStatus> status = ReadAuditStatus();
          return status.ok() && status->pid != now->pid;
        },
        std::chrono::seconds(5), std::chrono::milliseconds(100));
  }

  void ExpectAsFound() {
    Result<AuditStatus> now = ReadAuditStatus();
    if (!now.ok()) {
      ADD_FAILURE() << "audit status unreadable after the test: " << now.status().message();
      return;
    }
    EXPECT_EQ(now->enabled, before_.enabled) << "audit enabled flag not restored";
    EXPECT_EQ(now->backlog_limit, before_.backlog_limit) << "backlog limit not restored";
    EXPECT_EQ(now->backlog_wait_time, before_.backlog_wait_time) << "backlog wait not restored";
    EXPECT_EQ(now->pid, before_.pid) << "the audit pid is not the one found before the test";
    EXPECT_EQ(AuditdRunning(), auditd_before_) << "an auditd started or stopped by the test";
    EXPECT_EQ(RuleLines(), rules_before_) << "audit rules not as found before the test";
  }

  std::string test_key_;
  bool usable_ = false;
  AuditStatus before_;
  std::vector<std::string> rules_before_;
  bool auditd_before_ = false;
  std::vector<pid_t> children_;
  // The guard whose state the terminate handler restores (the first of
  // nested guards), and the handler it replaced.
  static inline AuditStateGuard* active_ = nullptr;
  static inline std::terminate_handler previous_terminate_ = nullptr;
};

}  // namespace recorder::live_test
