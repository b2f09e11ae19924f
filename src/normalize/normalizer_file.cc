#include <sys/sysmacros.h>

#include <string>
#include <string_view>
#include <utility>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

// File syscalls: which PATH items name the file, and how a name becomes
// an absolute path.
//
// A name relative to a directory descriptor other than AT_FDCWD is never
// made absolute here: the kernel logs neither that directory's path nor
// its inode (the PARENT item's name= is then the working directory, which
// has nothing to do with it). Such a name is passed on unresolved, with
// the inodes its PATH items give, and the enrich stage resolves it
// (src/enrich/path_resolver.h, docs/normalization.md).
namespace recorder {
namespace {

// mode= of a PATH item is octal.
constexpr uint64_t kFileTypeMask = 0170000;
constexpr uint64_t kDirectoryType = 0040000;

// dev= is "major:minor" in hex; st_dev as glibc's makedev() makes it.
uint64_t DeviceOf(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return 0;
  auto major = ParseInt<uint32_t>(text.substr(0, colon), 16);
  auto minor = ParseInt<uint32_t>(text.substr(colon + 1), 16);
  if (!major || !minor) return 0;
  return makedev(*major, *minor);
}

void DirectoryKeyOf(const PathItem* parent, PathOrigin* origin) {
  if (parent == nullptr) return;
  origin->dir_inode = ParseInt<uint64_t>(parent->record->Value("inode")).value_or(0);
  origin->dir_dev = origin->dir_inode != 0 ? DeviceOf(parent->record->Value("dev")) : 0;
}

void FileKeyOf(const PathItem* item, PathOrigin* origin) {
  if (item == nullptr) return;
  origin->inode = ParseInt<uint64_t>(item->record->Value("inode")).value_or(0);
  if (origin->inode == 0) return;
  origin->dev = DeviceOf(item->record->Value("dev"));
  auto mode = ParseInt<uint64_t>(item->record->Value("mode"), 8);
  origin->directory = mode && (*mode & kFileTypeMask) == kDirectoryType;
}

// A ".." after a real component may climb out of a symlink, so the
// lexical parent of such a name need not be its PARENT item's directory:
// its inodes must not teach the enrich stage a path.
bool ClimbsAfterAName(std::string_view name) {
  bool after_name = false;
  size_t i = 0;
  while (i <= name.size()) {
    size_t end = name.find('/', i);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(i, end - i);
    if (part == "..") {
      if (after_name) return true;
    } else if (!part.empty() && part != ".") {
      after_name = true;
    }
    i = end + 1;
  }
  return false;
}

// A relative name with "." and empty components dropped ("./a//b/" ->
// "a/b"); ".." is kept, nothing is known above the name's start.
void CleanRelative(std::string_view name, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < name.size()) {
    size_t end = name.find('/', i);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (!out->empty()) out->push_back('/');
    out->append(part);
  }
}

// The descriptors a call's names are relative to: `path` for the file
// (a rename's old name, a link's new link), `new_path` for a rename's new
// name and a link's existing file. AT_FDCWD for the calls without one.
struct Dirfds {
  int32_t path = PathOrigin::kAtFdcwd;
  int32_t new_path = PathOrigin::kAtFdcwd;
};

Dirfds DirfdsOf(SyscallClass klass, std::string_view name, const uint64_t* args) {
  using C = SyscallClass;
  auto fd = [&](int i) { return static_cast<int32_t>(IntArg(args[i])); };
  Dirfds d;
  switch (klass) {
    case C::kOpenat:
    case C::kOpenat2:
    case C::kUnlinkat:
    case C::kChmodAt:
    case C::kChownAt:
    case C::kUtimensat:
      d.path = fd(0);
      break;
    case C::kMkdir:
      if (name == "mkdirat") d.path = fd(0);
      break;
    case C::kMknod:
      if (name == "mknodat") d.path = fd(0);
      break;
    case C::kRename:
      if (name != "rename") {  // renameat, renameat2
        d.path = fd(0);
        d.new_path = fd(2);
      }
      break;
    case C::kLink:
      if (name == "linkat") {
        d.path = fd(2);
        d.new_path = fd(0);
      }
      break;
    case C::kSymlink:
      if (name == "symlinkat") d.path = fd(1);
      break;
    default:
      break;
  }
  return d;
}

}  // namespace

void Normalizer::State::CollectPaths(const AuditEvent& event) {
  paths.clear();
  for (const AuditRecord& r : event.records()) {
    if (r.type != audit_type::kPath) continue;
    const AuditField* name = r.Find("name");
    if (name != nullptr && name->spelling == ValueSpelling::kNull) name = nullptr;
    paths.push_back({r.Value("nametype"), name, &r});
  }
}

const PathItem* Normalizer::State::ItemOf(std::string_view nametype) const {
  for (const PathItem& p : paths)
    if (p.nametype == nametype && p.name != nullptr) return &p;
  return nullptr;
}

const PathItem* Normalizer::State::ItemNot(std::string_view skip1, std::string_view skip2) const {
  for (const PathItem& p : paths)
    if (p.nametype != skip1 && p.nametype != skip2 && p.name != nullptr) return &p;
  return nullptr;
}

// A rename's two PARENT items come in the order the kernel copied the
// names from user space, which is its compiler's order of evaluating the
// syscall wrapper's arguments (new name first on this project's kernels):
// the log does not say which directory is whose. A PARENT item's name is
// the directory part of its name as given, or the working directory for a
// name without '/': when the two names' parts differ, they pair the items.
// When they do not and the two directories do, neither name gets one.
void Normalizer::State::PairRenameParents(const PathItem* old_item, const PathItem* new_item,
                                          const PathItem** old_parent,
                                          const PathItem** new_parent) {
  const PathItem* first = *old_parent;
  const PathItem* second = *new_parent;
  if (first == nullptr || second == nullptr || first == second) return;
  auto key = [](const PathItem* p) {
    return std::pair(p->record->Value("inode"), p->record->Value("dev"));
  };
  if (key(first) == key(second)) return;
  *old_parent = *new_parent = nullptr;
  if (old_item == nullptr || new_item == nullptr || first->name == nullptr ||
      second->name == nullptr)
    return;
  auto directory_part = [this](const PathItem* item, std::string* out) {
    DecodeUntrusted(*item->name, out);
    const size_t slash = out->rfind('/');
    if (slash == std::string::npos) {
      *out = cwd;
    } else {
      out->resize(slash + 1);
    }
  };
  std::string old_dir, new_dir, first_name, second_name;
  directory_part(old_item, &old_dir);
  directory_part(new_item, &new_dir);
  if (old_dir == new_dir) return;
  DecodeUntrusted(*first->name, &first_name);
  DecodeUntrusted(*second->name, &second_name);
  if (first_name == old_dir && second_name == new_dir) {
    *old_parent = first;
    *new_parent = second;
  } else if (first_name == new_dir && second_name == old_dir) {
    *old_parent = second;
    *new_parent = first;
  }
}

bool Normalizer::State::FileEventFor(const AuditEvent& event, SyscallClass klass,
                                     std::string_view name, const uint64_t* args,
                                     TypedEvent& base) {
  using C = SyscallClass;
  FileEvent& f = ResetBody<FileEvent>(&base.body);
  CollectPaths(event);
  // cwd, item_text and path_scratch are the State's scratch strings: their
  // capacity is reused from event to event.
  cwd.clear();
  if (const AuditRecord* c = event.Find(audit_type::kCwd)) DecodedText(*c, "cwd", &cwd);
  const Dirfds dirfds = DirfdsOf(klass, name, args);
  const PathItem* parents[2] = {nullptr, nullptr};
  for (const PathItem& p : paths) {
    if (p.nametype != "PARENT") continue;
    (parents[0] == nullptr ? parents[0] : parents[1]) = &p;
    if (parents[1] != nullptr) break;
  }

  // One name of the call into *path and *origin: `item` names the file,
  // `parent` is the directory its last component is in.
  auto resolve = [&](const PathItem* item, const PathItem* parent, int32_t dirfd, std::string* path,
                     PathOrigin* origin) {
    *origin = PathOrigin();
    origin->dirfd = dirfd;
    DirectoryKeyOf(parent, origin);
    FileKeyOf(item, origin);
    if (item == nullptr) {
      path->clear();
      if (parent == nullptr || parent->name == nullptr) return;
      if (dirfd != PathOrigin::kAtFdcwd) {
        // The PARENT item's name is the working directory here, or the
        // directory part of an absolute name: the two cannot be told
        // apart, so only its inode is kept (the name: the directory).
        origin->unresolved = true;
        return;
      }
      // A failed call often resolved only the directory: name that (with
      // a trailing '/') rather than nothing.
      DecodeUntrusted(*parent->name, &item_text);
      ResolvePath(item_text, cwd, &path_scratch, path);
      if (path->empty() || path->front() != '/') {
        origin->unresolved = true;
        CleanRelative(item_text, path);
        return;
      }
      if (path->back() != '/') path->push_back('/');
      return;
    }
    DecodeUntrusted(*item->name, &item_text);
    const bool absolute = !item_text.empty() && item_text[0] == '/';
    if (absolute || (dirfd == PathOrigin::kAtFdcwd && !cwd.empty() && cwd[0] == '/')) {
      ResolvePath(item_text, cwd, &path_scratch, path);
      if (ClimbsAfterAName(item_text)) {
        origin->dir_inode = origin->dir_dev = 0;
        origin->inode = origin->dev = 0;
        origin->directory = false;
      }
      return;
    }
    origin->unresolved = true;
    CleanRelative(item_text, path);
  };
  // The path of a call with one name.
  auto resolve_one = [&](const PathItem* item) {
    resolve(item, parents[0], dirfds.path, &f.path, &f.path_origin);
  };

  switch (klass) {
    case C::kOpen:
    case C::kOpenat:
    case C::kOpenat2:
    case C::kCreat: {
      const PathItem* created = ItemOf("CREATE");
      std::optional<uint64_t> flags;
      if (klass == C::kOpen) flags = args[1];
      if (klass == C::kOpenat) flags = args[2];
      if (klass == C::kOpenat2) {
        // openat2's flags sit behind a pointer; kernels since 5.16 log
        // them in an OPENAT2 record (octal). Without it a CREATE item
        // says create and anything else is taken as a write.
        if (const AuditRecord* how = event.Find(kOpenat2Type))
          flags = ParseInt<uint64_t>(how->Value("oflag"), 8);
      }
      // A read-only open changes nothing; O_TRUNC alone still truncates.
      if (flags && (*flags & (kOWronly | kORdwr | kOCreat | kOTrunc)) == 0) return false;
      if (created != nullptr) {
        f.operation = FileOperation::kCreate;
        resolve_one(created);
      } else {
        f.operation = FileOperation::kWrite;
        resolve_one(ItemNot("PARENT", ""));
      }
      break;
    }
    case C::kUnlink:
    case C::kUnlinkat:
    case C::kRmdir: {
      const bool rmdir = klass == C::kRmdir || (klass == C::kUnlinkat && (args[2] & kAtRemovedir));
      f.operation = rmdir ? FileOperation::kRmdir : FileOperation::kDelete;
      const PathItem* item = ItemOf("DELETE");
      resolve_one(item != nullptr ? item : ItemNot("PARENT", ""));
      break;
    }
    case C::kMkdir:
    case C::kMknod: {
      f.operation = klass == C::kMkdir ? FileOperation::kMkdir : FileOperation::kCreate;
      const PathItem* item = ItemOf("CREATE");
      resolve_one(item != nullptr ? item : ItemNot("PARENT", ""));
      break;
    }
    case C::kRename: {
      f.operation = FileOperation::kRename;
      const PathItem* created = ItemOf("CREATE");
      // Old name: the DELETE item that is not the replaced target (a
      // rename over an existing file also deletes the new name).
      const PathItem* old_item = nullptr;
      for (const PathItem& p : paths) {
        if (p.nametype != "DELETE" || p.name == nullptr) continue;
        if (created != nullptr && p.name->value == created->name->value) continue;
        old_item = &p;
        break;
      }
      if (old_item == nullptr) old_item = ItemOf("DELETE");
      if (old_item == nullptr || created == nullptr) {
        // A failed rename resolves no children: take the names in order.
        const PathItem* first = nullptr;
        const PathItem* second = nullptr;
        for (const PathItem& p : paths) {
          if (p.nametype == "PARENT" || p.name == nullptr) continue;
          (first == nullptr ? first : second) = &p;
          if (second != nullptr) break;
        }
        if (old_item == nullptr) old_item = first;
        if (created == nullptr) created = second;
      }
      const PathItem* old_parent = parents[0];
      const PathItem* new_parent = parents[1] != nullptr ? parents[1] : parents[0];
      PairRenameParents(old_item, created, &old_parent, &new_parent);
      resolve(old_item, old_parent, dirfds.path, &f.path, &f.path_origin);
      resolve(created, new_parent, dirfds.new_path, &f.new_path, &f.new_path_origin);
      break;
    }
    case C::kChmod:
    case C::kChmodAt:
      f.operation = FileOperation::kChmod;
      resolve_one(ItemNot("PARENT", ""));  // empty for fchmod (an fd)
      f.mode = static_cast<int64_t>((klass == C::kChmod ? args[1] : args[2]) & 07777);
      break;
    case C::kChown:
    case C::kChownAt: {
      f.operation = FileOperation::kChown;
      resolve_one(ItemNot("PARENT", ""));
      const uint64_t owner = klass == C::kChown ? args[1] : args[2];
      const uint64_t group = klass == C::kChown ? args[2] : args[3];
      f.owner_uid = IsUnchangedId(owner) ? kUnsetId : IntArg(owner);
      f.owner_gid = IsUnchangedId(group) ? kUnsetId : IntArg(group);
      break;
    }
    case C::kTruncate:
      f.operation = FileOperation::kTruncate;
      resolve_one(ItemNot("PARENT", ""));  // empty for ftruncate
      break;
    case C::kUtimes:
    case C::kUtimensat:
      // The times themselves sit behind a pointer audit does not follow.
      f.operation = FileOperation::kSetTimes;
      resolve_one(ItemNot("PARENT", ""));  // empty for utimensat(fd, NULL), futimens
      break;
    case C::kLink:
    case C::kSymlink: {
      // path = the new link (CREATE); new_path = what it points to: the
      // existing file for a hard link, the target string as given for a
      // symlink (it is resolved against the link's directory at use, so
      // it is not made absolute here).
      f.operation = FileOperation::kLink;
      resolve_one(ItemOf("CREATE"));
      const PathItem* target = ItemNot("PARENT", "CREATE");
      if (target != nullptr) {
        if (klass == C::kSymlink) {
          DecodeUntrusted(*target->name, &f.new_path);
        } else {
          // The existing file's directory is not logged (no PARENT item
          // for it): only its own inode is.
          resolve(target, nullptr, dirfds.new_path, &f.new_path, &f.new_path_origin);
        }
      }
      break;
    }
    default:
      return false;
  }
  return true;
}

}  // namespace recorder
