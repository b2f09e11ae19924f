#include "enrich/hash_cache.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "util/file_util.h"

namespace recorder::enrich {

namespace {

constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr char kCacheMagic[] = "recorder-hash-cache";
constexpr int kCacheVersion = 1;

FileKey KeyOf(const struct stat& st) {
  FileKey key;
  key.dev = st.st_dev;
  key.inode = st.st_ino;
  key.size = st.st_size;
  key.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return key;
}

std::string Hex(const unsigned char* bytes, unsigned int n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size_t{n} * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

bool IsHex(const std::string& s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<FileKey> StatFileKey(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status::Errorf("unreadable: {}", std::strerror(errno));
  }
  return KeyOf(st);
}

FileHashes HashFile(const std::string& path, int64_t max_bytes, FileKey* key) {
  FileHashes result;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    result.note = fmt::format("unreadable: {}", std::strerror(errno));
    return result;
  }
  struct stat before;
  if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
    close(fd);
    result.note = "unreadable: not a regular file";
    return result;
  }
  *key = KeyOf(before);
  if (max_bytes >= 0 && before.st_size > max_bytes) {
    close(fd);
    result.note = kNoteTooLarge;
    return result;
  }
  MdCtx sha(EVP_MD_CTX_new());
  MdCtx md5(EVP_MD_CTX_new());
  if (!sha || !md5 || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
    close(fd);
    result.note = "digest unavailable";
    return result;
  }
  std::vector<unsigned char> buffer(kReadChunk);
  int64_t total = 0;
  while (true) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result.note = fmt::format("unreadable: {}", std::strerror(errno));
      close(fd);
      return result;
    }
    if (n == 0) break;
    total += n;
    EVP_DigestUpdate(sha.get(), buffer.data(), static_cast<size_t>(n));
    EVP_DigestUpdate(md5.get(), buffer.data(), static_cast<size_t>(n));
    if (max_bytes >= 0 && total > max_bytes) {  // grew while we read
      close(fd);
      result.note = kNoteTooLarge;
      return result;
    }
  }
  struct stat after;
  bool changed = fstat(fd, &after) != 0 || !(KeyOf(after) == *key) || total != before.st_size;
  close(fd);
  if (changed) {
    // Written to while we read: the digest matches no version of the file.
    result.note = "changed while hashing";
    return result;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &length);
  result.sha256 = Hex(digest, length);
  EVP_DigestFinal_ex(md5.get(), digest, &length);
  result.md5 = Hex(digest, length);
  return result;
}

HashCache::HashCache(size_t max_entries) : max_entries_(max_entries > 0 ? max_entries : 1) {}

std::optional<FileHashes> HashCache::Get(const FileKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->hashes;
}

void HashCache::Put(const FileKey& key, FileHashes hashes) {
  std::lock_guard<std::mutex> lock(mutex_);
  PutLocked(key, std::move(hashes));
}

void HashCache::PutLocked(const FileKey& key, FileHashes hashes) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->hashes = std::move(hashes);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, std::move(hashes)});
  index_[key] = lru_.begin();
  while (lru_.size() > max_entries_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

size_t HashCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lru_.size();
}

Status HashCache::Save(const std::string& path) const {
  std::ostringstream text;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t count = 0;
    for (const Entry& e : lru_) count += e.hashes.sha256.empty() ? 0 : 1;
    text << kCacheMagic << ' ' << kCacheVersion << ' ' << count << '\n';
    // Least recently used first, so a reload's Put order rebuilds the LRU.
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      if (it->hashes.sha256.empty()) continue;  // notes are cheap to redo
      text << it->key.dev << ' ' << it->key.inode << ' ' << it->key.size << ' ' << it->key.mtime_ns
           << ' ' << it->hashes.sha256 << ' ' << it->hashes.md5 << '\n';
    }
  }
  return WriteFileAtomically(path, text.str());
}

Status HashCache::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Errorf("cannot open hash cache file {}", path);
  std::string line;
  std::string magic;
  int version = 0;
  size_t count = 0;
  if (!std::getline(in, line)) return Status::Errorf("corrupt hash cache file {}: empty", path);
  std::istringstream header(line);
  if (!(header >> magic >> version >> count) || magic != kCacheMagic) {
    return Status::Errorf("corrupt hash cache file {}: bad header", path);
  }
  if (version != kCacheVersion) {
    return Status::Errorf("hash cache file {}: unsupported version {}", path, version);
  }
  std::vector<Entry> entries;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    std::istringstream fields(line);
    Entry e;
    std::string extra;
    if (!(fields >> e.key.dev >> e.key.inode >> e.key.size >> e.key.mtime_ns >> e.hashes.sha256 >>
          e.hashes.md5) ||
        (fields >> extra) || !IsHex(e.hashes.sha256, 64) || !IsHex(e.hashes.md5, 32)) {
      return Status::Errorf("corrupt hash cache file {} line {}", path, line_no);
    }
    entries.push_back(std::move(e));
  }
  if (entries.size() != count) {
    return Status::Errorf("corrupt hash cache file {}: {} entries, header says {}", path,
                          entries.size(), count);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& e : entries) PutLocked(e.key, std::move(e.hashes));
  return Status::Ok();
}

}  // namespace recorder::enrich
