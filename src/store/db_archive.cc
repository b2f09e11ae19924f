#include "store/db_archive.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "util/file_util.h"

namespace recorder::store {
namespace {

constexpr std::string_view kArchiveInfix = ".archive-";

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string UtcStamp(int64_t now_ms) {
  const time_t seconds = static_cast<time_t>(now_ms / 1000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now_ms % 1000);
}

// Appends `path`'s bytes to the gzip stream; a missing file adds nothing.
Status AppendCompressed(gzFile out, const std::string& path, const std::string& archive,
                        uint64_t* bytes) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Errorf("{}: cannot read for archiving: {}", path, std::strerror(errno));
  }
  std::vector<char> buffer(1 << 20);
  Status status;
  for (;;) {
    const ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Status::Errorf("{}: read error while archiving: {}", path, std::strerror(errno));
      break;
    }
    if (n == 0) break;
    if (gzwrite(out, buffer.data(), static_cast<unsigned>(n)) != n) {
      int code = 0;
      status = Status::Errorf("{}: cannot write archive: {}", archive, gzerror(out, &code));
      break;
    }
    *bytes += static_cast<uint64_t>(n);
  }
  close(fd);
  return status;
}

void SyncDirectory(const std::string& path) {
  const int dir = open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
}

// Compresses `source` into one gzip file at `archive`, 0600: written as
// <archive>.tmp, synced, then renamed, so `archive` is whole or absent.
Status Compress(const std::string& source, const std::string& archive, uint64_t* bytes) {
  const std::string temp = archive + ".tmp";
  Status status = PreparePrivateFile(temp);
  if (!status.ok()) return status;
  const int fd = open(temp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::Errorf("{}: cannot write: {}", temp, std::strerror(errno));
  // gzclose closes the descriptor: a second one syncs the data first.
  const int sync_fd = dup(fd);
  // Level 1: a database of interned rows compresses well even at the
  // fastest level, and the archive shares the machine with the recorder.
  gzFile out = gzdopen(fd, "wb1");
  if (out == nullptr) {
    close(fd);
    if (sync_fd >= 0) close(sync_fd);
    unlink(temp.c_str());
    return Status::Errorf("{}: cannot start compression", archive);
  }
  status = AppendCompressed(out, source, archive, bytes);
  const int closed = gzclose(out);
  if (status.ok() && closed != Z_OK)
    status = Status::Errorf("{}: cannot finish the archive (disk full?)", archive);
  if (status.ok() && sync_fd >= 0 && fsync(sync_fd) != 0)
    status = Status::Errorf("{}: cannot sync the archive: {}", archive, std::strerror(errno));
  if (sync_fd >= 0) close(sync_fd);
  if (status.ok() && rename(temp.c_str(), archive.c_str()) != 0)
    status = Status::Errorf("{}: cannot rename the archive: {}", archive, std::strerror(errno));
  if (!status.ok()) {
    unlink(temp.c_str());
    return status;
  }
  SyncDirectory(archive);
  return status;
}

bool EndsWith(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

// Every file of an archive of `db_path`: a database archive compressed or
// not, a -wal companion, a temporary file; sorted by name (by time).
std::vector<std::string> ArchiveFiles(const std::string& db_path) {
  std::vector<std::string> out;
  const std::string dir = DirectoryOf(db_path);
  const std::string prefix = BaseName(db_path) + std::string(kArchiveInfix);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* entry = readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix)
      out.push_back(dir + "/" + std::string(name));
  }
  closedir(d);
  std::sort(out.begin(), out.end());  // the UTC stamps sort by time
  return out;
}

// The database archive a file of ArchiveFiles belongs to, uncompressed
// name: X for X, X.gz, X-wal, X-wal.gz and their .tmp.
std::string ArchiveStem(std::string name) {
  for (std::string_view end : {".tmp", ".gz", "-wal"})
    if (EndsWith(name, end)) name.resize(name.size() - end.size());
  return name;
}

// The 16 bytes every SQLite 3 database file starts with. A file without
// them is not a damaged database but something else, and is never
// archived in its place.
bool HasSqliteHeader(const std::string& path) {
  static constexpr char kHeader[] = "SQLite format 3";  // and its NUL: 16 bytes
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  char buffer[sizeof kHeader] = {};
  const ssize_t n = read(fd, buffer, sizeof buffer);
  close(fd);
  return n == static_cast<ssize_t>(sizeof buffer) &&
         std::memcmp(buffer, kHeader, sizeof buffer) == 0;
}

Status RemoveIfPresent(const std::string& path) {
  if (unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return Status::Errorf("{}: cannot remove: {}", path, std::strerror(errno));
}

}  // namespace

std::vector<std::string> ListArchives(const std::string& db_path) {
  std::vector<std::string> out;
  const std::vector<std::string> files = ArchiveFiles(db_path);
  auto present = [&files](const std::string& name) {
    return std::binary_search(files.begin(), files.end(), name);
  };
  for (const std::string& file : files) {
    if (EndsWith(file, ".tmp")) continue;
    if (EndsWith(file, "-wal.gz") || EndsWith(file, "-wal")) continue;
    // Being compressed: the archive is listed once, by its final name
    // when it has one.
    if (!EndsWith(file, ".gz") && present(file + ".gz")) continue;
    out.push_back(file);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return ArchiveStem(a) < ArchiveStem(b);
  });
  return out;
}

std::vector<std::string> ListUncompressedArchives(const std::string& db_path) {
  std::vector<std::string> out;
  for (const std::string& archive : ListArchives(db_path))
    if (!EndsWith(archive, ".gz")) out.push_back(archive);
  return out;
}

Result<std::string> MoveAsideForArchive(const std::string& db_path, int64_t now_ms) {
  const std::string moved = DirectoryOf(db_path) + "/" + BaseName(db_path) +
                            std::string(kArchiveInfix) + UtcStamp(now_ms);
  if (rename(db_path.c_str(), moved.c_str()) != 0)
    return Status::Errorf("{}: cannot move aside for archiving: {}", db_path, std::strerror(errno));
  // The frames a WAL still holds belong to the moved database: SQLite
  // finds them next to it under its new name.
  if (rename((db_path + "-wal").c_str(), (moved + "-wal").c_str()) != 0 && errno != ENOENT)
    return Status::Errorf("{}-wal: cannot move aside for archiving: {}", db_path,
                          std::strerror(errno));
  Status removed = RemoveIfPresent(db_path + "-shm");
  if (!removed.ok()) return removed;
  SyncDirectory(db_path);
  return moved;
}

Result<std::string> CompressArchive(const std::string& moved, uint64_t* bytes) {
  uint64_t ignored = 0;
  if (bytes == nullptr) bytes = &ignored;
  const std::string archive = moved + ".gz";
  // The database and the frames its WAL still holds: one stream that
  // `gunzip` restores as the database followed by the WAL's bytes is no
  // use, so the WAL goes into an archive of its own when there is one.
  struct stat st {};
  const std::string wal = moved + "-wal";
  if (stat(wal.c_str(), &st) == 0) {
    if (st.st_size > 0) {
      Status status = Compress(wal, moved + "-wal.gz", bytes);
      if (!status.ok()) return status;
    }
    Status removed = RemoveIfPresent(wal);
    if (!removed.ok()) return removed;
  }
  Status status = Compress(moved, archive, bytes);
  if (!status.ok()) return status;
  status = RemoveIfPresent(moved);
  if (!status.ok()) return status;
  return archive;
}

Result<std::vector<std::string>> PruneArchives(const std::string& db_path, int archive_limit) {
  std::vector<std::string> erased;
  const std::vector<std::string> archives = ListArchives(db_path);
  const size_t keep = static_cast<size_t>(std::clamp(archive_limit, 0, kMaxDatabaseArchiveLimit));
  for (size_t i = 0; archives.size() > keep && i < archives.size() - keep; ++i) {
    const std::string stem = ArchiveStem(archives[i]);
    for (const char* end : {"", ".gz", "-wal", "-wal.gz", ".gz.tmp", "-wal.gz.tmp"}) {
      Status status = RemoveIfPresent(stem + end);
      if (!status.ok()) return status;
    }
    erased.push_back(archives[i]);
  }
  return erased;
}

Result<ArchiveResult> ArchiveDatabase(const std::string& db_path, int64_t now_ms,
                                      int archive_limit) {
  ArchiveResult result;
  archive_limit = std::clamp(archive_limit, 0, kMaxDatabaseArchiveLimit);
  if (archive_limit > 0) {
    Result<std::string> moved = MoveAsideForArchive(db_path, now_ms);
    if (!moved.ok()) return moved.status();
    Result<std::string> archive = CompressArchive(*moved, &result.bytes_in);
    if (!archive.ok()) return archive.status();
    result.archive = *archive;
  } else {
    Status removed = RemoveDatabase(db_path);
    if (!removed.ok()) return removed;
  }
  Result<std::vector<std::string>> erased = PruneArchives(db_path, archive_limit);
  if (!erased.ok()) return erased.status();
  result.erased = std::move(*erased);
  return result;
}

Status RemoveDatabase(const std::string& db_path) {
  for (const char* suffix : {"-wal", "-shm", ""}) {
    Status status = RemoveIfPresent(db_path + suffix);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Result<std::optional<DamageReport>> ArchiveIfDamaged(const std::string& db_path, int64_t now_ms,
                                                     int archive_limit) {
  if (!HasSqliteHeader(db_path)) return std::optional<DamageReport>();
  std::string problem;
  {
    Result<std::unique_ptr<Database>> db = Database::Open(db_path, SQLITE_OPEN_READWRITE);
    if (!db.ok()) return db.status();
    // A second recorder or a reader's checkpoint may hold the lock briefly.
    sqlite3_busy_timeout((*db)->handle(), 5000);
    Result<std::string> check = QuickCheck(db->get());
    if (check.ok()) {
      problem = *check;
    } else if (check.status().code() == StatusCode::kCorrupt) {
      problem = check.status().message();
    } else {
      return check.status();
    }
  }
  if (problem.empty()) return std::optional<DamageReport>();
  // quick_check's report spans lines; the log and runs.note take one.
  for (size_t at = problem.find('\n'); at != std::string::npos; at = problem.find('\n', at))
    problem.replace(at, 1, " ");
  Result<ArchiveResult> archived = ArchiveDatabase(db_path, now_ms, std::max(archive_limit, 1));
  if (!archived.ok()) return archived.status();
  return std::optional<DamageReport>(DamageReport{std::move(problem), std::move(*archived)});
}

Result<std::string> QuickCheck(Database* db) {
  auto stmt = db->Prepare("PRAGMA quick_check(1)");
  if (!stmt.ok()) return stmt.status();
  auto row = (*stmt)->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::Errorf("{}: quick_check returned nothing", db->path());
  std::string answer((*stmt)->ColumnText(0));
  if (answer == "ok") return std::string();
  return answer;
}

}  // namespace recorder::store
