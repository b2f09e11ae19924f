// A batch of typed events that keeps its events for reuse: clear() and
// pop_back() only move the end, so the next Add() hands back an event
// whose strings still hold their capacity. The normalizer writes into
// those instead of building a fresh TypedEvent, moving it in, and freeing
// it after the store: on replay that construct/move/free cycle is a
// visible share of the busier thread (perf), and most of its malloc calls.
//
// It reads like a EventBatch (size, [], begin/end, back,
// push_back), which is all the sinks use. Slots past size() are not
// events: never read them.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <utility>
#include <vector>

#include "normalize/typed_event.h"

namespace recorder {

// Makes *event equal to TypedEvent{} in every field but the body, and
// keeps its strings' capacity. The body keeps its alternative, emptied
// the same way: set it with ResetBody<T>() (or assign it).
void ResetEvent(TypedEvent* event);

// Empties one body alternative in place (scalars to their defaults,
// strings and vectors cleared, capacity kept).
void ResetBodyValue(ProcessStart* body);
void ResetBodyValue(ProcessEnd* body);
void ResetBodyValue(FileEvent* body);
void ResetBodyValue(NetworkEvent* body);
void ResetBodyValue(SecurityEvent* body);
void ResetBodyValue(ModuleEvent* body);
void ResetBodyValue(ImageLoadEvent* body);
void ResetBodyValue(DnsEvent* body);
void ResetBodyValue(ExecFailure* body);
void ResetBodyValue(RegistryEvent* body);

// The body as an empty T: the existing one emptied in place when it
// already holds a T (its strings' capacity kept), else a new T.
template <typename T>
T& ResetBody(EventBody* body) {
  if (T* same = std::get_if<T>(body)) {
    ResetBodyValue(same);
    return *same;
  }
  return body->emplace<T>();
}

class EventBatch {
 public:
  using value_type = TypedEvent;
  using size_type = size_t;
  using iterator = TypedEvent*;
  using const_iterator = const TypedEvent*;
  using reference = TypedEvent&;
  using const_reference = const TypedEvent&;

  EventBatch() = default;
  // `count` events equal to TypedEvent{}.
  explicit EventBatch(size_t count) : slots_(count), size_(count) {}
  EventBatch(std::initializer_list<TypedEvent> events) : slots_(events), size_(events.size()) {}
  // Copies hold the events only, not the spare slots.
  EventBatch(const EventBatch& other);
  EventBatch& operator=(const EventBatch& other);
  EventBatch(EventBatch&& other) noexcept;
  EventBatch& operator=(EventBatch&& other) noexcept;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  iterator begin() { return slots_.data(); }
  iterator end() { return slots_.data() + size_; }
  const_iterator begin() const { return slots_.data(); }
  const_iterator end() const { return slots_.data() + size_; }
  TypedEvent& operator[](size_t i) { return slots_[i]; }
  const TypedEvent& operator[](size_t i) const { return slots_[i]; }
  // Bounds-checked (std::out_of_range), like vector::at.
  TypedEvent& at(size_t i);
  const TypedEvent& at(size_t i) const;
  TypedEvent& front() { return slots_[0]; }
  const TypedEvent& front() const { return slots_[0]; }
  TypedEvent& back() { return slots_[size_ - 1]; }
  const TypedEvent& back() const { return slots_[size_ - 1]; }

  // Appends an event equal to TypedEvent{} but for its body (see
  // ResetEvent) and returns it. The reference, and any other into the
  // batch, is valid until the next Add/push_back.
  TypedEvent& Add();
  void push_back(TypedEvent&& event) { Add() = std::move(event); }
  void push_back(const TypedEvent& event) { Add() = event; }
  // Drops the last event (its slot is kept for the next Add).
  void pop_back() { --size_; }
  // Keeps the first `count` events (count <= size()).
  void Truncate(size_t count) { size_ = count < size_ ? count : size_; }
  void clear() { size_ = 0; }
  void reserve(size_t count) { slots_.reserve(count); }
  void swap(EventBatch& other) noexcept {
    slots_.swap(other.slots_);
    std::swap(size_, other.size_);
  }

 private:
  std::vector<TypedEvent> slots_;  // [0, size_) events, then spare slots
  size_t size_ = 0;
};

}  // namespace recorder
