// The physical floor for bench/overhead.sh: the least a user-space audit
// collector can do. It becomes the audit daemon (AUDIT_SET pid), reads
// every record the kernel sends and throws it away.
//
//   floor_reader [READY_FILE]
//
// The receive buffer is the recorder's (16 MiB, SO_RCVBUFFORCE), so the
// comparison is about what is done with the records, not about buffering.
// READY_FILE is created once the kernel has acknowledged the pid. On
// SIGTERM/SIGINT it gives the audit pid back (pid 0), prints
//   records N bytes B enobufs E
// on stdout and exits 0. It leaves the enabled flag, rules and backlog
// settings alone: the harness sets and restores those.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested = 0;

static void OnSignal(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

// Sends AUDIT_SET pid=`pid` and waits for the kernel's acknowledgement,
// skipping any audit records that arrive first.
static int SetAuditPid(int fd, uint32_t pid, uint32_t sequence) {
  struct {
    struct nlmsghdr header;
    struct audit_status status;
  } request;
  memset(&request, 0, sizeof(request));
  request.header.nlmsg_len = NLMSG_LENGTH(sizeof(struct audit_status));
  request.header.nlmsg_type = AUDIT_SET;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = sequence;
  request.status.mask = AUDIT_STATUS_PID;
  request.status.pid = pid;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &request, request.header.nlmsg_len, 0, (struct sockaddr*)&kernel,
             sizeof(kernel)) < 0) {
    perror("floor_reader: AUDIT_SET");
    return -1;
  }
  static char buffer[1 << 16];
  for (int tries = 0; tries < 100000; ++tries) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("floor_reader: waiting for the ack");
      return -1;
    }
    for (struct nlmsghdr* h = (struct nlmsghdr*)buffer; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == sequence) {
        const struct nlmsgerr* error = NLMSG_DATA(h);
        if (error->error != 0) {
          fprintf(stderr, "floor_reader: AUDIT_SET pid %u: %s\n", pid, strerror(-error->error));
          return -1;
        }
        return 0;
      }
    }
  }
  fprintf(stderr, "floor_reader: no ack for AUDIT_SET\n");
  return -1;
}

int main(int argc, char** argv) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) {
    perror("floor_reader: socket");
    return 1;
  }
  int size = 16 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnSignal;  // no SA_RESTART: recv returns EINTR
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  if (SetAuditPid(fd, (uint32_t)getpid(), 1) != 0) return 1;
  if (argc > 1) {
    int ready = open(argv[1], O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (ready >= 0) close(ready);
  }
  static char buffer[1 << 16];
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t enobufs = 0;
  while (!stop_requested) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == ENOBUFS) ++enobufs;
      else if (errno != EINTR) {
        perror("floor_reader: recv");
        break;
      }
      continue;
    }
    ++records;
    bytes += (uint64_t)n;
  }
  int status = SetAuditPid(fd, 0, 2) == 0 ? 0 : 1;
  printf("records %llu bytes %llu enobufs %llu\n", (unsigned long long)records,
         (unsigned long long)bytes, (unsigned long long)enobufs);
  close(fd);
  return status;
}
