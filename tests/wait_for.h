// Test helper: polls a condition until it holds or a deadline passes.
// Tests wait for a state, not for a fixed time: a loaded CI host
// (sanitizer builds, two tests at once on two cores) then only makes the
// wait longer, and the deadline bounds a test that fails.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace recorder {

// True as soon as `condition()` is; false if it still is not after
// `timeout`. `poll` is the pause between looks.
inline bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace recorder
