#include <string>
#include <string_view>

#include "normalize/normalizer_internal.h"
#include "parse/field_values.h"

// File syscalls: which PATH items name the file, and how a name becomes
// an absolute path.
namespace recorder {

void Normalizer::State::CollectPaths(const AuditEvent& event) {
  paths.clear();
  for (const AuditRecord& r : event.records()) {
    if (r.type != audit_type::kPath) continue;
    const AuditField* name = r.Find("name");
    if (name != nullptr && name->spelling == ValueSpelling::kNull) name = nullptr;
    paths.push_back({r.Value("nametype"), name});
  }
}

const AuditField* Normalizer::State::ItemOf(std::string_view nametype) const {
  for (const PathItem& p : paths)
    if (p.nametype == nametype && p.name != nullptr) return p.name;
  return nullptr;
}

const AuditField* Normalizer::State::ItemNot(std::string_view skip1, std::string_view skip2) const {
  for (const PathItem& p : paths)
    if (p.nametype != skip1 && p.nametype != skip2 && p.name != nullptr) return p.name;
  return nullptr;
}

bool Normalizer::State::FileEventFor(const AuditEvent& event, SyscallClass klass,
                                     std::string_view name, const uint64_t* args,
                                     TypedEvent& base) {
  using C = SyscallClass;
  FileEvent& f = ResetBody<FileEvent>(&base.body);
  CollectPaths(event);
  // cwd, base_dir, item_text and joined are the State's scratch strings:
  // their capacity is reused from event to event.
  cwd.clear();
  if (const AuditRecord* c = event.Find(audit_type::kCwd)) DecodedText(*c, "cwd", &cwd);
  // *at calls with a real dirfd: the kernel does not log the dirfd's
  // path; the PARENT item's name is its best account of the directory.
  base_dir = cwd;
  const bool at_call = name.size() > 2 && (name.ends_with("at") || name.ends_with("at2"));
  if (at_call && IntArg(args[0]) != kAtFdcwd && klass != C::kSymlink) {
    if (const AuditField* parent = ItemOf("PARENT")) {
      DecodeUntrusted(*parent, &item_text);
      if (!item_text.empty() && item_text[0] == '/') base_dir = item_text;
    }
  }
  auto resolve = [&](const AuditField* item, std::string* path) {
    if (item == nullptr) {
      // A failed call often resolved only the directory: name that
      // (with a trailing '/') rather than nothing.
      const AuditField* parent = ItemOf("PARENT");
      if (parent == nullptr) {
        path->clear();
        return;
      }
      DecodeUntrusted(*parent, &item_text);
      ResolvePath(item_text, cwd, &path_scratch, path);
      if (!path->empty() && path->back() != '/') path->push_back('/');
      return;
    }
    DecodeUntrusted(*item, &item_text);
    std::string_view text = item_text;
    if (!text.empty() && text[0] != '/' && base_dir != cwd) {
      // Relative to the dirfd's directory: only the last component joins it.
      size_t slash = text.rfind('/');
      if (slash != std::string_view::npos) text.remove_prefix(slash + 1);
    }
    ResolvePath(text, base_dir, &path_scratch, path);
  };

  switch (klass) {
    case C::kOpen:
    case C::kOpenat:
    case C::kOpenat2:
    case C::kCreat: {
      const AuditField* created = ItemOf("CREATE");
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
        resolve(created, &f.path);
      } else {
        f.operation = FileOperation::kWrite;
        resolve(ItemNot("PARENT", ""), &f.path);
      }
      break;
    }
    case C::kUnlink:
    case C::kUnlinkat:
    case C::kRmdir: {
      const bool rmdir = klass == C::kRmdir || (klass == C::kUnlinkat && (args[2] & kAtRemovedir));
      f.operation = rmdir ? FileOperation::kRmdir : FileOperation::kDelete;
      const AuditField* item = ItemOf("DELETE");
      resolve(item != nullptr ? item : ItemNot("PARENT", ""), &f.path);
      break;
    }
    case C::kMkdir:
    case C::kMknod: {
      f.operation = klass == C::kMkdir ? FileOperation::kMkdir : FileOperation::kCreate;
      const AuditField* item = ItemOf("CREATE");
      resolve(item != nullptr ? item : ItemNot("PARENT", ""), &f.path);
      break;
    }
    case C::kRename: {
      f.operation = FileOperation::kRename;
      const AuditField* created = ItemOf("CREATE");
      // Old name: the DELETE item that is not the replaced target (a
      // rename over an existing file also deletes the new name).
      const AuditField* old_item = nullptr;
      for (const PathItem& p : paths) {
        if (p.nametype != "DELETE" || p.name == nullptr) continue;
        if (created != nullptr && p.name->value == created->value) continue;
        old_item = p.name;
        break;
      }
      if (old_item == nullptr) old_item = ItemOf("DELETE");
      if (old_item == nullptr || created == nullptr) {
        // A failed rename resolves no children: take the names in order.
        const AuditField* first = nullptr;
        const AuditField* second = nullptr;
        for (const PathItem& p : paths) {
          if (p.nametype == "PARENT" || p.name == nullptr) continue;
          (first == nullptr ? first : second) = p.name;
          if (second != nullptr) break;
        }
        if (old_item == nullptr) old_item = first;
        if (created == nullptr) created = second;
      }
      resolve(old_item, &f.path);
      resolve(created, &f.new_path);
      break;
    }
    case C::kChmod:
    case C::kChmodAt:
      f.operation = FileOperation::kChmod;
      resolve(ItemNot("PARENT", ""), &f.path);  // empty for fchmod (an fd)
      f.mode = static_cast<int64_t>((klass == C::kChmod ? args[1] : args[2]) & 07777);
      break;
    case C::kChown:
    case C::kChownAt: {
      f.operation = FileOperation::kChown;
      resolve(ItemNot("PARENT", ""), &f.path);
      const uint64_t owner = klass == C::kChown ? args[1] : args[2];
      const uint64_t group = klass == C::kChown ? args[2] : args[3];
      f.owner_uid = IsUnchangedId(owner) ? kUnsetId : IntArg(owner);
      f.owner_gid = IsUnchangedId(group) ? kUnsetId : IntArg(group);
      break;
    }
    case C::kTruncate:
      f.operation = FileOperation::kTruncate;
      resolve(ItemNot("PARENT", ""), &f.path);  // empty for ftruncate
      break;
    case C::kLink:
    case C::kSymlink: {
      // path = the new link (CREATE); new_path = what it points to: the
      // existing file for a hard link, the target string as given for a
      // symlink (it is resolved against the link's directory at use, so
      // it is not made absolute here).
      f.operation = FileOperation::kLink;
      resolve(ItemOf("CREATE"), &f.path);
      const AuditField* target = ItemNot("PARENT", "CREATE");
      if (target != nullptr) {
        if (klass == C::kSymlink) {
          DecodeUntrusted(*target, &f.new_path);
        } else {
          resolve(target, &f.new_path);
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
