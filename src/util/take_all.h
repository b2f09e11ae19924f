#pragma once
// The hand-off of a worker's queue to its consumer: the image-load
// monitor, the DNS capture and the hash worker each fill a bounded deque
// on their thread and the event loop takes all of it at once.

#include <deque>
#include <iterator>
#include <vector>

namespace recorder {

// Moves every element out of `queue`, leaving it empty. The caller holds
// the queue's lock.
template <typename T>
std::vector<T> TakeAll(std::deque<T>* queue) {
  std::vector<T> out(std::make_move_iterator(queue->begin()),
                     std::make_move_iterator(queue->end()));
  queue->clear();
  return out;
}

}  // namespace recorder
