#include "enrich/image_load_monitor.h"

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "util/clock.h"
#include "util/take_all.h"

namespace recorder::enrich {

namespace {

std::string FdPath(int fd) {
  char link[4096];
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link));
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

std::string ExeOf(int32_t pid) {
  char link[4096];
  std::string proc = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(proc.c_str(), link, sizeof(link));
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

struct ElfShape {
  bool elf = false;
  bool shared_object = false;    // ET_DYN
  bool has_interpreter = false;  // PT_INTERP: a (PIE) program, not a library
};

// Reads the ELF header and program headers through the event's fd
// (pread: no new open, so no new fanotify event).
ElfShape InspectElf(int fd) {
  ElfShape shape;
  Elf64_Ehdr header;
  if (pread(fd, &header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header))) return shape;
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) return shape;
  shape.elf = true;
  shape.shared_object = header.e_type == ET_DYN;
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr)) {
    return shape;  // 32-bit: shape by e_type only
  }
  for (int i = 0; i < header.e_phnum && i < 64; ++i) {
    Elf64_Phdr ph;
    off_t at = static_cast<off_t>(header.e_phoff + static_cast<uint64_t>(i) * sizeof(ph));
    if (pread(fd, &ph, sizeof(ph), at) != static_cast<ssize_t>(sizeof(ph))) break;
    if (ph.p_type == PT_INTERP) {
      shape.has_interpreter = true;
      break;
    }
  }
  return shape;
}

}  // namespace

std::vector<std::string> DefaultLibraryDirs() {
  static const char* const kCandidates[] = {"/lib",
                                            "/lib64",
                                            "/usr/lib",
                                            "/usr/lib64",
                                            "/usr/local/lib",
                                            "/lib/x86_64-linux-gnu",
                                            "/usr/lib/x86_64-linux-gnu",
                                            "/lib/aarch64-linux-gnu",
                                            "/usr/lib/aarch64-linux-gnu",
                                            "/lib/i386-linux-gnu",
                                            "/usr/lib/i386-linux-gnu",
                                            "/usr/local/lib/x86_64-linux-gnu"};
  std::vector<std::string> dirs;
  std::set<std::pair<dev_t, ino_t>> seen;  // /lib -> usr/lib on merged-/usr systems
  for (const char* dir : kCandidates) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    dirs.emplace_back(dir);
  }
  return dirs;
}

ImageLoadMonitor::ImageLoadMonitor(ImageLoadMonitorOptions options)
    : options_(std::move(options)) {}

ImageLoadMonitor::~ImageLoadMonitor() { Stop(); }

bool ImageLoadMonitor::Available() {
  int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

Status ImageLoadMonitor::Start() {
  if (!options_.enabled || running()) return Status::Ok();
  fanotify_fd_ =
      fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fanotify_fd_ < 0 && errno == EPERM) {
    // O_NOATIME needs file ownership or CAP_FOWNER; not essential.
    fanotify_fd_ =
        fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
  }
  if (fanotify_fd_ < 0) {
    return Status::Errorf("fanotify_init: {} (needs CAP_SYS_ADMIN)", std::strerror(errno));
  }
  int marks = 0;
  std::string errors;
  for (const std::string& fs : options_.exec_filesystems) {
    if (fanotify_mark(fanotify_fd_, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC, AT_FDCWD,
                      fs.c_str()) == 0 ||
        fanotify_mark(fanotify_fd_, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC, AT_FDCWD,
                      fs.c_str()) == 0) {
      ++marks;
    } else {
      ++stats_.marks_failed;
      errors += fmt::format(" {}: {};", fs, std::strerror(errno));
    }
  }
  std::vector<std::string> dirs =
      options_.library_dirs.empty() ? DefaultLibraryDirs() : options_.library_dirs;
  for (const std::string& dir : dirs) {
    if (fanotify_mark(fanotify_fd_, FAN_MARK_ADD | FAN_MARK_ONLYDIR, FAN_OPEN | FAN_EVENT_ON_CHILD,
                      AT_FDCWD, dir.c_str()) == 0) {
      ++marks;
    } else {
      ++stats_.marks_failed;
      errors += fmt::format(" {}: {};", dir, std::strerror(errno));
    }
  }
  if (marks == 0) {
    close(fanotify_fd_);
    fanotify_fd_ = -1;
    return Status::Errorf("fanotify: no mark placed:{}", errors);
  }
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) {
    close(fanotify_fd_);
    fanotify_fd_ = -1;
    return Status::Errorf("eventfd: {}", std::strerror(errno));
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ImageLoadMonitor::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (fanotify_fd_ >= 0) close(fanotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  fanotify_fd_ = stop_fd_ = -1;
}

void ImageLoadMonitor::Run() {
  alignas(fanotify_event_metadata) char buffer[64 * 1024];
  const int32_t self = getpid();
  pollfd fds[2] = {{fanotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    ssize_t length = read(fanotify_fd_, buffer, sizeof(buffer));
    if (length <= 0) continue;  // EAGAIN: another wakeup took it
    auto* meta = reinterpret_cast<fanotify_event_metadata*>(buffer);
    for (; FAN_EVENT_OK(meta, length); meta = FAN_EVENT_NEXT(meta, length)) {
      if (meta->vers != FANOTIFY_METADATA_VERSION) return;  // ABI we do not speak
      if (meta->mask & FAN_Q_OVERFLOW) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.overflows;
        continue;
      }
      if (meta->fd < 0) continue;
      if (meta->pid != self) Handle(meta->pid, meta->fd, meta->mask);
      close(meta->fd);
    }
  }
}

void ImageLoadMonitor::Handle(int32_t pid, int fd, uint64_t mask) {
  ImageLoad load;
  load.time_ms = WallMs();
  load.pid = pid;
  load.path = FdPath(fd);
  ElfShape shape = InspectElf(fd);
  bool keep = true;
  if (mask & FAN_OPEN_EXEC) {
    // execve opens the program and its interpreter with FMODE_EXEC. The
    // program is what /proc/PID/exe shows (once exec finished), or an ELF
    // with PT_INTERP / ET_EXEC, or a script; the interpreter is none of
    // those.
    bool program =
        !shape.elf || !shape.shared_object || shape.has_interpreter || ExeOf(pid) == load.path;
    load.kind = program ? ImageKind::kExecutable : ImageKind::kLibrary;
    keep = !program || options_.report_executables;
  } else {
    load.kind = ImageKind::kLibrary;
    keep = shape.elf && shape.shared_object;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.events;
  if (!keep) {
    if (!(mask & FAN_OPEN_EXEC)) ++stats_.not_library;
    if (mask & FAN_OPEN_EXEC) ++stats_.executables;
    return;
  }
  if (load.kind == ImageKind::kExecutable)
    ++stats_.executables;
  else
    ++stats_.libraries;
  if (queue_.size() >= options_.queue_capacity) {
    queue_.pop_front();
    ++stats_.dropped;
  }
  queue_.push_back(std::move(load));
}

std::vector<ImageLoad> ImageLoadMonitor::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  return TakeAll(&queue_);
}

ImageLoadStats ImageLoadMonitor::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace recorder::enrich
