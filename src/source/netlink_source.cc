#include "source/netlink_source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace recorder {
namespace {

// One slot holds the largest audit record the kernel sends
// (MAX_AUDIT_MESSAGE_LENGTH is 8970) plus headers, with room to spare.
// recvmmsg fills up to kReceiveSlots of them per call: on a virtual
// machine each syscall's entry and exit costs more than copying a record,
// and the kernel sends one record per datagram. Pages of a slot are
// touched only as far as records reach.
constexpr size_t kReceiveSlotSize = size_t{16} * 1024;
constexpr unsigned kReceiveSlots = 32;
constexpr int kControlTimeoutMs = 2000;
// Record types below this are requests and replies, not records.
constexpr int kFirstRecordType = AUDIT_FIRST_USER_MSG;

Result<int> OpenAuditSocket() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
  if (fd < 0) {
    int error = errno;
    if (error == EPROTONOSUPPORT || error == EAFNOSUPPORT)
      return Status::Error(StatusCode::kUnavailable,
                           "the kernel has no audit support (NETLINK_AUDIT unavailable)");
    return Status::FromErrno(error, "cannot open the audit netlink socket");
  }
  return fd;
}

// An audit socket that receives: its buffer holds `bytes` (forced past
// rmem_max when we may, else as much as the system allows).
Result<int> OpenReceivingAuditSocket(int bytes) {
  Result<int> fd = OpenAuditSocket();
  if (!fd.ok()) return fd;
  if (setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0)
    (void)setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  return fd;
}

struct AuditRequest {
  nlmsghdr header;
  audit_status status;
};

Status SendRequest(int fd, uint16_t type, const audit_status* status, uint32_t sequence) {
  AuditRequest request{};
  request.header.nlmsg_len = NLMSG_LENGTH(status ? sizeof(audit_status) : 0);
  request.header.nlmsg_type = type;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = sequence;
  if (status) request.status = *status;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = sendto(fd, &request, request.header.nlmsg_len, 0,
                       reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
    if (n >= 0) return Status::Ok();
    if (errno == EINTR) continue;
    return Status::FromErrno(errno, "audit netlink send failed");
  }
}

// NLMSG_OK and NLMSG_NEXT without the macros' comparisons of the signed
// length with the unsigned nlmsg_len: a message that fits in `length`
// bytes, and the one after it (`*length` 0 past the end).
bool MessageFits(const nlmsghdr* header, size_t length) {
  return length >= sizeof(nlmsghdr) && header->nlmsg_len >= sizeof(nlmsghdr) &&
         header->nlmsg_len <= length;
}

nlmsghdr* NextMessage(nlmsghdr* header, size_t* length) {
  const size_t step = NLMSG_ALIGN(header->nlmsg_len);
  *length = step < *length ? *length - step : 0;
  return reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(header) + step);
}

// Waits for the reply to `sequence`: the ack (NLMSG_ERROR) and, for
// AUDIT_GET, the status. The control socket receives nothing else.
Status AwaitReply(int fd, uint32_t sequence, audit_status* status_out) {
  alignas(nlmsghdr) char buffer[8192];
  bool need_status = status_out != nullptr;
  bool acked = false;
  while (!acked || need_status) {
    pollfd poll_fd{fd, POLLIN, 0};
    int ready = poll(&poll_fd, 1, kControlTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::FromErrno(errno, "waiting for the kernel's audit reply failed");
    if (ready == 0)
      return Status::Error(StatusCode::kUnavailable,
                           "the kernel did not answer an audit request in time");
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::FromErrno(errno, "audit netlink receive failed");
    }
    size_t length = static_cast<size_t>(n);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); MessageFits(header, length);
         header = NextMessage(header, &length)) {
      if (header->nlmsg_seq != sequence) continue;
      if (header->nlmsg_type == NLMSG_ERROR) {
        auto* error = static_cast<nlmsgerr*>(NLMSG_DATA(header));
        if (error->error != 0)
          return Status::FromErrno(error->error, "the kernel refused the audit request");
        acked = true;
      } else if (header->nlmsg_type == AUDIT_GET && status_out) {
        std::memset(status_out, 0, sizeof(*status_out));
        size_t payload = header->nlmsg_len - NLMSG_HDRLEN;
        std::memcpy(status_out, NLMSG_DATA(header), std::min(payload, sizeof(audit_status)));
        need_status = false;
      }
    }
  }
  return Status::Ok();
}

AuditStatus FromKernel(const audit_status& s) {
  AuditStatus status;
  status.enabled = s.enabled;
  status.failure = s.failure;
  status.pid = s.pid;
  status.rate_limit = s.rate_limit;
  status.backlog_limit = s.backlog_limit;
  status.lost = s.lost;
  status.backlog = s.backlog;
  status.backlog_wait_time = s.backlog_wait_time;
  return status;
}

}  // namespace

Result<std::unique_ptr<NetlinkControl>> NetlinkControl::Open() {
  Result<int> fd = OpenAuditSocket();
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<NetlinkControl>(new NetlinkControl(*fd));
}

NetlinkControl::~NetlinkControl() { close(fd_); }

Result<AuditStatus> NetlinkControl::GetStatus() {
  uint32_t sequence = ++sequence_;
  Status sent = SendRequest(fd_, AUDIT_GET, nullptr, sequence);
  if (!sent.ok()) return sent;
  audit_status status{};
  Status replied = AwaitReply(fd_, sequence, &status);
  if (!replied.ok()) return replied;
  return FromKernel(status);
}

Status NetlinkControl::SetEnabled(uint32_t enabled) {
  audit_status status{};
  status.mask = AUDIT_STATUS_ENABLED;
  status.enabled = enabled;
  uint32_t sequence = ++sequence_;
  Status sent = SendRequest(fd_, AUDIT_SET, &status, sequence);
  if (!sent.ok()) return sent;
  return AwaitReply(fd_, sequence, nullptr);
}

Status NetlinkControl::SetBacklog(std::optional<uint32_t> limit,
                                  std::optional<uint32_t> wait_time) {
  audit_status status{};
  if (limit) {
    status.mask |= AUDIT_STATUS_BACKLOG_LIMIT;
    status.backlog_limit = *limit;
  }
  if (wait_time) {
    status.mask |= AUDIT_STATUS_BACKLOG_WAIT_TIME;
    status.backlog_wait_time = *wait_time;
  }
  if (status.mask == 0) return Status::Ok();
  uint32_t sequence = ++sequence_;
  Status sent = SendRequest(fd_, AUDIT_SET, &status, sequence);
  if (!sent.ok()) return sent;
  return AwaitReply(fd_, sequence, nullptr);
}

Status NetlinkControl::ClearPid() {
  audit_status status{};
  status.mask = AUDIT_STATUS_PID;
  status.pid = 0;
  uint32_t sequence = ++sequence_;
  Status sent = SendRequest(fd_, AUDIT_SET, &status, sequence);
  if (!sent.ok()) return sent;
  return AwaitReply(fd_, sequence, nullptr);
}

Result<AuditStatus> ReadAuditStatus() {
  Result<std::unique_ptr<NetlinkControl>> control = NetlinkControl::Open();
  if (!control.ok()) return control.status();
  return (*control)->GetStatus();
}

std::string_view NetlinkModeName(NetlinkMode mode) {
  return mode == NetlinkMode::kUnicast ? "unicast" : "multicast";
}

Result<std::unique_ptr<NetlinkSource>> NetlinkSource::Open(const NetlinkOptions& options) {
  std::unique_ptr<NetlinkSource> source(new NetlinkSource());
  source->options_ = options;
  source->buffer_ = std::make_unique_for_overwrite<char[]>(kReceiveSlotSize * kReceiveSlots);
  Result<std::unique_ptr<NetlinkControl>> control = NetlinkControl::Open();
  if (!control.ok()) return control.status();
  source->control_ = std::move(*control);
  Result<AuditStatus> before = source->control_->GetStatus();
  if (!before.ok()) return before.status();
  source->before_ = *before;
  Status opened =
      options.mode == NetlinkMode::kUnicast ? source->OpenUnicast() : source->OpenMulticast();
  if (!opened.ok()) return opened;  // the destructor undoes what was done
  int bytes = 0;
  socklen_t size = sizeof(bytes);
  if (getsockopt(source->fd_, SOL_SOCKET, SO_RCVBUF, &bytes, &size) == 0)
    source->receive_buffer_bytes_ = bytes;
  return source;
}

Status NetlinkSource::OpenUnicast() {
  // Read first so the message names the holder; the kernel would only say
  // EEXIST.
  if (before_.pid != 0 && before_.pid != static_cast<uint32_t>(getpid())) {
    // The kernel checks whether the holder is alive only when someone asks
    // to replace it; a dead holder's pid is stale, a live one is exclusive.
    if (kill(static_cast<pid_t>(before_.pid), 0) == 0 || errno != ESRCH) {
      return Status::Errorf(
          StatusCode::kBusy,
          "another audit daemon (pid {}) holds the kernel audit connection; stop it or use "
          "--source multicast (alongside auditd) or run as an auditd plugin",
          before_.pid);
    }
  }
  Result<int> fd = OpenReceivingAuditSocket(options_.receive_buffer_bytes);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  audit_status request{};
  request.mask = AUDIT_STATUS_PID;
  request.pid = static_cast<uint32_t>(getpid());
  Status sent = SendRequest(fd_, AUDIT_SET, &request, 1);
  if (!sent.ok()) return sent;
  // Records may arrive right after the ack on this socket; the ack is the
  // first message with our sequence, so wait for it here before reading.
  Status acked = AwaitReply(fd_, 1, nullptr);
  if (!acked.ok()) {
    if (acked.code() == StatusCode::kExists)
      return Status::Error(
          StatusCode::kBusy,
          "another audit daemon holds the kernel audit connection (EEXIST); stop it or use "
          "--source multicast");
    return acked;
  }
  registered_ = true;
  if (fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK) != 0)
    return Status::FromErrno(errno, "cannot make the audit socket non-blocking");
  if (options_.backlog_limit || options_.backlog_wait_time) {
    Status backlog = control_->SetBacklog(options_.backlog_limit, options_.backlog_wait_time);
    if (!backlog.ok()) return backlog;
    changed_backlog_ = true;
  }
  if (options_.enable && before_.enabled == 0) {
    Status enabled = control_->SetEnabled(1);
    if (!enabled.ok()) return enabled;
    changed_enabled_ = true;
  }
  holder_pid_ = static_cast<uint32_t>(getpid());
  return Status::Ok();
}

Status NetlinkSource::OpenMulticast() {
  Result<int> fd = OpenReceivingAuditSocket(options_.receive_buffer_bytes);
  if (!fd.ok()) return fd.status();
  fd_ = *fd;
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    int error = errno;
    if (error == EPERM)
      return Status::Error(
          StatusCode::kPermission,
          "cannot join the audit multicast group: needs CAP_AUDIT_READ (run as root)");
    return Status::FromErrno(error, "cannot join the audit multicast group");
  }
  if (fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK) != 0)
    return Status::FromErrno(errno, "cannot make the audit socket non-blocking");
  holder_pid_ = before_.pid;
  return Status::Ok();
}

// Close() throws only std::bad_alloc (building a message); terminating
// then is right.
NetlinkSource::~NetlinkSource() { (void)Close(); }  // NOLINT(bugprone-exception-escape)

Status NetlinkSource::ReadPending(const RecordHandler& handler, int max_messages) {
  drained_ = false;
  iovec iov[kReceiveSlots];
  mmsghdr messages[kReceiveSlots];
  for (unsigned i = 0; i < kReceiveSlots; ++i) {
    iov[i] = {buffer_.get() + i * kReceiveSlotSize, kReceiveSlotSize};
    messages[i] = {};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  int read = 0;
  while (read < max_messages) {
    const unsigned want =
        static_cast<unsigned>(std::min<int>(static_cast<int>(kReceiveSlots), max_messages - read));
    ++stats_.receive_calls;
    int received = recvmmsg(fd_, messages, want, MSG_DONTWAIT, nullptr);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        drained_ = true;
        return Status::Ok();
      }
      // The socket overflowed: the kernel dropped records for us. Reading
      // goes on; the count shows up as drops.
      if (errno == ENOBUFS) {
        ++stats_.overruns;
        continue;
      }
      return Status::FromErrno(errno, "audit netlink receive failed");
    }
    read += received;
    for (int i = 0; i < received; ++i) {
      const size_t n = messages[i].msg_len;
      if ((messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) ++stats_.truncated;
      messages[i].msg_hdr.msg_flags = 0;
      if (n < NLMSG_HDRLEN) continue;
      const char* slot = buffer_.get() + static_cast<size_t>(i) * kReceiveSlotSize;
      const int type = reinterpret_cast<const nlmsghdr*>(slot)->nlmsg_type;
      if (type < kFirstRecordType) {
        ++stats_.control_messages;
        continue;
      }
      // The kernel sends one record per datagram, and its nlmsg_len is
      // unreliable: unicast records carry the payload length only (without
      // the header; see kauditd_send_multicast_skb's "length quirks"),
      // multicast copies the full length. So the datagram's size bounds the
      // text, and the text ends at its first NUL, if any.
      const char* data = slot + NLMSG_HDRLEN;
      const size_t size = strnlen(data, n - NLMSG_HDRLEN);
      ++stats_.messages;
      stats_.bytes += size;
      Status status = handler(type, std::string_view(data, size));
      if (!status.ok()) return status;
    }
    // Fewer than asked: the socket is empty (the kernel stops at EAGAIN;
    // an error after the first datagram comes back on the next call).
    if (static_cast<unsigned>(received) < want) {
      drained_ = true;
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Result<AuditStatus> NetlinkSource::CheckStatus() {
  Result<AuditStatus> status = control_->GetStatus();
  if (!status.ok()) return status;
  if (options_.mode == NetlinkMode::kUnicast && registered_ &&
      status->pid != static_cast<uint32_t>(getpid())) {
    pid_lost_ = true;
    holder_pid_ = status->pid;
  } else if (options_.mode == NetlinkMode::kMulticast) {
    holder_pid_ = status->pid;
  }
  return status;
}

Status NetlinkSource::Close() {
  Status result = Status::Ok();
  auto keep_first_error = [&result](Status status) {
    if (result.ok() && !status.ok()) result = std::move(status);
  };
  if (control_) {
    const uint32_t self = static_cast<uint32_t>(getpid());
    Result<AuditStatus> now =
        (registered_ || changed_enabled_) ? control_->GetStatus() : Result<AuditStatus>(before_);
    // The kernel dropped us and another daemon (auditd) registered: it
    // relies on auditing being on, so turning it off would silence it.
    const bool other_daemon = now.ok() && now->pid != 0 && now->pid != self;
    if (changed_enabled_) {
      // An immutable (-e 2) kernel refuses; nothing else to do then.
      if (!other_daemon) keep_first_error(control_->SetEnabled(before_.enabled));
      changed_enabled_ = false;
    }
    if (changed_backlog_) {
      keep_first_error(control_->SetBacklog(before_.backlog_limit, before_.backlog_wait_time));
      changed_backlog_ = false;
    }
    if (registered_) {
      // Only when we still hold it: unregistering someone else is refused
      // by the kernel, and would be wrong anyway.
      if (now.ok() && now->pid == self) keep_first_error(control_->ClearPid());
      registered_ = false;
    }
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  return result;
}

}  // namespace recorder
