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

// Writes `sources` (in order) into one gzip file at `archive`, 0600.
Status Compress(const std::vector<std::string>& sources, const std::string& archive,
                uint64_t* bytes) {
  Status status = PreparePrivateFile(archive);
  if (!status.ok()) return status;
  const int fd = open(archive.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return Status::Errorf("{}: cannot write: {}", archive, std::strerror(errno));
  // Level 1: a responder wants the recorder back recording, and a
  // database of interned rows compresses well even at the fastest level.
  gzFile out = gzdopen(fd, "wb1");
  if (out == nullptr) {
    close(fd);
    return Status::Errorf("{}: cannot start compression", archive);
  }
  for (const std::string& source : sources) {
    status = AppendCompressed(out, source, archive, bytes);
    if (!status.ok()) break;
  }
  const int closed = gzclose(out);  // also closes fd
  if (status.ok() && closed != Z_OK)
    status = Status::Errorf("{}: cannot finish the archive (disk full?)", archive);
  if (status.ok()) {
    const int dir = open(DirectoryOf(archive).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      fsync(dir);
      close(dir);
    }
  }
  if (!status.ok()) unlink(archive.c_str());
  return status;
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
  const std::string dir = DirectoryOf(db_path);
  const std::string prefix = BaseName(db_path) + std::string(kArchiveInfix);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* entry = readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name.size() > prefix.size() + 3 && name.substr(0, prefix.size()) == prefix &&
        name.substr(name.size() - 3) == ".gz")
      out.push_back(dir + "/" + std::string(name));
  }
  closedir(d);
  std::sort(out.begin(), out.end());  // the UTC stamps sort by time
  return out;
}

Result<ArchiveResult> ArchiveDatabase(const std::string& db_path, int64_t now_ms,
                                      int archive_limit) {
  ArchiveResult result;
  archive_limit = std::clamp(archive_limit, 0, kMaxDatabaseArchiveLimit);
  if (archive_limit > 0) {
    result.archive = DirectoryOf(db_path) + "/" + BaseName(db_path) + std::string(kArchiveInfix) +
                     UtcStamp(now_ms) + ".gz";
    // The database and the frames its WAL still holds: one stream that
    // `gunzip` restores as the database followed by the WAL's bytes is no
    // use, so the WAL goes into an archive of its own when there is one.
    Status status = Compress({db_path}, result.archive, &result.bytes_in);
    if (!status.ok()) return status;
    struct stat st {};
    if (stat((db_path + "-wal").c_str(), &st) == 0 && st.st_size > 0) {
      status = Compress({db_path + "-wal"},
                        result.archive.substr(0, result.archive.size() - 3) + "-wal.gz",
                        &result.bytes_in);
      if (!status.ok()) {
        unlink(result.archive.c_str());
        return status;
      }
    }
  }
  Status removed = RemoveDatabase(db_path);
  if (!removed.ok()) return removed;
  std::vector<std::string> archives = ListArchives(db_path);
  // A WAL archive travels with its database's archive.
  std::vector<std::string> databases;
  for (const std::string& a : archives)
    if (a.size() < 7 || a.compare(a.size() - 7, 7, "-wal.gz") != 0) databases.push_back(a);
  const size_t keep = static_cast<size_t>(archive_limit);
  for (size_t i = 0; databases.size() > keep && i < databases.size() - keep; ++i) {
    const std::string& old = databases[i];
    Status status = RemoveIfPresent(old);
    if (status.ok()) status = RemoveIfPresent(old.substr(0, old.size() - 3) + "-wal.gz");
    if (!status.ok()) return status;
    result.erased.push_back(old);
  }
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
