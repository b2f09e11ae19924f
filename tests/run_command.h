// Test helpers: running commands and programs. The one home for them:
//  - RunCommand / RunCapture: a shell command line, its output and exit code;
//  - Spawn / WaitExit / RunProgram: a program by argv, no shell, for our
//    own children (recorders, auditd, workloads) that tests stop by pid.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "wait_for.h"

namespace recorder {

struct CommandResult {
  // The command's exit status; 128+N when the shell saw it killed by
  // signal N; -1 when it could not be run or the shell itself was killed.
  int exit_code = -1;
  std::string output;
};

// Runs `command` with /bin/sh. `output` is its stdout and stderr together;
// a redirection inside `command` (`2>FILE`, `2>/dev/null`) keeps stderr
// apart.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen(("( " + command + "\n) 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The output of RunCommand(command), stdout and stderr.
inline std::string RunCapture(const std::string& command) { return RunCommand(command).output; }

// `text` as one shell word: 'it'\''s'.
inline std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// fork/exec `argv` (argv[0] is a path; no shell, no PATH lookup); stdin
// from /dev/null, stdout and stderr appended to `log_path` (or /dev/null).
// The child's pid (-1 if fork failed); the caller reaps it.
//
// The child gets SIGTERM when the test process dies, however it dies: a
// test that aborts (std::terminate) or that ctest kills on its timeout runs
// no destructor, and a recorder or workload it leaves running (a flood, a
// recorder holding the audit pid) would spoil every test after it. SIGTERM
// lets a recorder remove its rules. Call Spawn from the test's main thread:
// the signal comes when the forking *thread* ends.
inline pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path = "") {
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    int null_fd = open("/dev/null", O_RDWR);
    dup2(null_fd, 0);
    int out =
        log_path.empty() ? null_fd : open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    dup2(out, 1);
    dup2(out, 2);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` (our child) up to `timeout`: its exit status (128+N when
// killed by signal N), or -1 when it is still running or not our child.
inline int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int result = -1;
  WaitFor(
      [&] {
        int status = 0;
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
          result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        }
        return done < 0;  // not (or no longer) our child: nothing to wait for
      },
      timeout, std::chrono::milliseconds(20));
  return result;
}

// Runs `argv` to its end (20 s at most): its exit status, or -1.
inline int RunProgram(const std::vector<std::string>& argv) {
  return WaitExit(Spawn(argv), std::chrono::seconds(20));
}

}  // namespace recorder
