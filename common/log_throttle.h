// LogThrottle: at most one line per interval for a message that can repeat at the rate of requests.
//
// An outage refuses every request with the same reason; a line for each would write the log (and fill
// its disk) as fast as clients can ask, a flood any one client can drive. Due() says whether to write
// the line now, and how many were held back since the last one was written, for that line to say.
// Thread-safe (atomics); a function-local static per message.
#pragma once

#include <atomic>
#include <cstdint>

namespace chatpipe {

class LogThrottle {
 public:
  explicit LogThrottle(int64_t interval_ms) : interval_ms_(interval_ms) {}

  bool Due(int64_t now_ms, int64_t* held_back) {
    int64_t next = next_ms_.load(std::memory_order_relaxed);
    if (now_ms < next || !next_ms_.compare_exchange_strong(next, now_ms + interval_ms_)) {
      held_back_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    *held_back = held_back_.exchange(0);
    return true;
  }

 private:
  const int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{0};
  std::atomic<int64_t> held_back_{0};
};

}  // namespace chatpipe
