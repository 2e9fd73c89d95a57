#include "tests/support/wait.h"

#include <algorithm>
#include <thread>

namespace chatpipe::test {

bool WaitFor(const std::function<bool(std::chrono::milliseconds left)>& step, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Rounded up: 0 left means the deadline has passed, not that it is less than a millisecond away.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    left = std::max(left, std::chrono::milliseconds(0));
    if (step(left)) return true;
    if (left.count() == 0) return false;
  }
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  return WaitFor(
      [&](std::chrono::milliseconds left) {
        if (done()) return true;
        std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(20)));
        return false;
      },
      timeout);
}

}  // namespace chatpipe::test
