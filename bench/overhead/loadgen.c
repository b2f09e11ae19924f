// Load generator for bench/overhead.sh: audited operations at a fixed rate
// (or as fast as possible), bounded in time and in count, reporting the
// rate it achieved.
//
//   loadgen exec RATE SECONDS MAX_OPS          fork+exec /bin/true
//   loadgen tcp  RATE SECONDS MAX_OPS          connect + accept on 127.0.0.1
//   loadgen file RATE SECONDS MAX_OPS DIR      create+write, rename, unlink in DIR
//
// RATE 0 means as fast as possible. The run stops at SECONDS or MAX_OPS,
// whichever comes first. Output, one line on stdout:
//   ops N seconds S rate R failed F
// where S runs from the first operation to the last one's completion
// (for exec: the last child reaped), so R = N / S is the achieved rate.
// Exit status 0 when every operation succeeded, 1 otherwise, 2 on usage.
//
// exec keeps at most kMaxInFlight children running: at a fixed rate the
// schedule catches up after a stall (the kernel's audit backlog can make
// exec wait) but never runs away; at rate 0 the cap is the concurrency.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxInFlight = 16 };

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void SleepUntil(double when) {
  struct timespec t;
  t.tv_sec = (time_t)when;
  t.tv_nsec = (long)((when - (double)t.tv_sec) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
  }
}

// Paces operation i (0-based) of a fixed-rate run; no-op at rate 0.
static void Pace(double start, double rate, uint64_t i) {
  if (rate <= 0) return;
  double due = start + (double)i / rate;
  if (Now() < due) SleepUntil(due);
}

struct Result {
  uint64_t ops;
  uint64_t failed;
  double seconds;
};

static int ReapOne(int block, uint64_t* failed) {
  int status = 0;
  pid_t pid = waitpid(-1, &status, block ? 0 : WNOHANG);
  if (pid <= 0) return 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++*failed;
  return 1;
}

static struct Result RunExec(double rate, double seconds, uint64_t max_ops) {
  struct Result r = {0, 0, 0};
  char* const argv[] = {"true", NULL};
  char* const envp[] = {"PATH=/usr/bin:/bin", NULL};
  int in_flight = 0;
  double start = Now();
  double end = start + seconds;
  for (uint64_t i = 0; i < max_ops; ++i) {
    Pace(start, rate, i);
    if (Now() >= end) break;
    while (in_flight > 0 && ReapOne(0, &r.failed)) --in_flight;
    if (in_flight >= kMaxInFlight && ReapOne(1, &r.failed)) --in_flight;
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, envp) != 0) {
      ++r.failed;
      continue;
    }
    ++in_flight;
    ++r.ops;
  }
  while (in_flight > 0 && ReapOne(1, &r.failed)) --in_flight;
  r.seconds = Now() - start;
  return r;
}

static struct Result RunTcp(double rate, double seconds, uint64_t max_ops) {
  struct Result r = {0, 0, 0};
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address;
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener < 0 || bind(listener, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(listener, 128) != 0 ||
      getsockname(listener, (struct sockaddr*)&address, &length) != 0) {
    perror("loadgen tcp: listener");
    exit(1);
  }
  // RST on close: no TIME_WAIT, so a long run cannot exhaust the ports.
  struct linger abortive = {1, 0};
  double start = Now();
  double end = start + seconds;
  for (uint64_t i = 0; i < max_ops; ++i) {
    Pace(start, rate, i);
    if (Now() >= end) break;
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0) {
      ++r.failed;
      continue;
    }
    setsockopt(client, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
    if (connect(client, (struct sockaddr*)&address, sizeof(address)) != 0) {
      ++r.failed;
      close(client);
      continue;
    }
    // With the peer's address, as a server would: the audited accept.
    struct sockaddr_in peer;
    socklen_t peer_length = sizeof(peer);
    int accepted = accept4(listener, (struct sockaddr*)&peer, &peer_length, SOCK_CLOEXEC);
    if (accepted < 0) ++r.failed;
    else {
      close(accepted);
      ++r.ops;
    }
    close(client);
  }
  r.seconds = Now() - start;
  close(listener);
  return r;
}

static struct Result RunFile(double rate, double seconds, uint64_t max_ops, const char* dir) {
  struct Result r = {0, 0, 0};
  static const char kData[256] = "recorder overhead benchmark\n";
  char path[4096];
  char renamed[4096];
  double start = Now();
  double end = start + seconds;
  for (uint64_t i = 0; i < max_ops; ++i) {
    Pace(start, rate, i);
    if (Now() >= end) break;
    snprintf(path, sizeof(path), "%s/f%llu", dir, (unsigned long long)i);
    snprintf(renamed, sizeof(renamed), "%s/g%llu", dir, (unsigned long long)i);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      ++r.failed;
      continue;
    }
    int ok = write(fd, kData, sizeof(kData)) == (ssize_t)sizeof(kData);
    ok &= close(fd) == 0;
    ok &= rename(path, renamed) == 0;
    ok &= unlink(renamed) == 0;
    if (ok) ++r.ops;
    else ++r.failed;
  }
  r.seconds = Now() - start;
  return r;
}

static int Usage(void) {
  fprintf(stderr,
          "usage: loadgen exec|tcp RATE SECONDS MAX_OPS\n"
          "       loadgen file RATE SECONDS MAX_OPS DIR\n"
          "RATE 0 = as fast as possible\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 5) return Usage();
  const char* mode = argv[1];
  double rate = strtod(argv[2], NULL);
  double seconds = strtod(argv[3], NULL);
  uint64_t max_ops = strtoull(argv[4], NULL, 10);
  if (rate < 0 || seconds <= 0 || seconds > 3600 || max_ops == 0) return Usage();
  struct Result r;
  if (strcmp(mode, "exec") == 0) r = RunExec(rate, seconds, max_ops);
  else if (strcmp(mode, "tcp") == 0) r = RunTcp(rate, seconds, max_ops);
  else if (strcmp(mode, "file") == 0 && argc >= 6) r = RunFile(rate, seconds, max_ops, argv[5]);
  else return Usage();
  printf("ops %llu seconds %.4f rate %.1f failed %llu\n", (unsigned long long)r.ops, r.seconds,
         r.seconds > 0 ? (double)r.ops / r.seconds : 0.0, (unsigned long long)r.failed);
  return r.failed == 0 ? 0 : 1;
}
