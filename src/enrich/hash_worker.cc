#include "enrich/hash_worker.h"

#include <chrono>
#include <utility>

#include "util/take_all.h"

namespace recorder::enrich {

HashWorker::HashWorker(HashCache* cache, HashWorkerOptions options)
    : cache_(cache), options_(options) {}

HashWorker::~HashWorker() { Stop(); }

void HashWorker::SetCompletionCallback(std::function<void(const HashCompletion&)> callback) {
  callback_ = std::move(callback);
}

void HashWorker::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void HashWorker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.clear();
  in_flight_.clear();
  idle_.notify_all();
}

HashLookup HashWorker::Lookup(const std::string& path) {
  HashLookup result;
  Result<FileKey> key = StatFileKey(path);
  std::unique_lock<std::mutex> lock(mutex_);
  ++stats_.lookups;
  if (!key.ok()) {
    result.hashes.note = key.status().message();
    return result;
  }
  result.key = *key;
  if (options_.max_file_bytes >= 0 && key->size > options_.max_file_bytes) {
    ++stats_.too_large;
    result.hashes.note = kNoteTooLarge;
    return result;
  }
  if (std::optional<FileHashes> cached = cache_->Get(*key)) {
    ++stats_.hits;
    result.hashes = std::move(*cached);
    result.state = result.hashes.sha256.empty() ? HashState::kUnavailable : HashState::kReady;
    return result;
  }
  result.hashes.note = kNotePending;
  if (in_flight_.contains(*key)) {
    result.state = HashState::kPending;
    return result;
  }
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped;
    result.hashes.note = kNoteQueueFull;
    return result;
  }
  queue_.push_back(Request{path, *key});
  in_flight_.insert(*key);
  ++stats_.queued;
  result.state = HashState::kPending;
  lock.unlock();
  wake_.notify_one();
  return result;
}

void HashWorker::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Request request = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();

    HashCompletion done;
    done.path = std::move(request.path);
    done.key = request.key;
    done.hashes = HashFile(done.path, options_.max_file_bytes, &done.key);
    // Cache under the identity actually read; a file replaced between
    // Lookup's stat and our open is cached under its new key.
    bool changed = done.hashes.note == "changed while hashing";
    if (!changed) cache_->Put(done.key, done.hashes);
    if (callback_) callback_(done);

    lock.lock();
    busy_ = false;
    in_flight_.erase(request.key);
    if (!done.hashes.sha256.empty()) {
      ++stats_.hashed;
    } else if (done.hashes.note == kNoteTooLarge) {
      ++stats_.too_large;
    } else {
      ++stats_.failed;
    }
    completions_.push_back(std::move(done));
    while (completions_.size() > options_.max_completions) {
      completions_.pop_front();
      ++stats_.completions_dropped;
    }
    if (queue_.empty()) idle_.notify_all();
  }
  busy_ = false;
  idle_.notify_all();
}

std::vector<HashCompletion> HashWorker::TakeCompletions() {
  std::lock_guard<std::mutex> lock(mutex_);
  return TakeAll(&completions_);
}

bool HashWorker::WaitIdle(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return queue_.empty() && !busy_; });
}

HashWorkerStats HashWorker::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace recorder::enrich
