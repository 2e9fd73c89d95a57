// SteadyMs: milliseconds of the monotonic clock, for deadlines and silences within one process (never
// sent anywhere: its zero is arbitrary). Wall-clock time is NowMs (common/message_id.h).
#pragma once

#include <chrono>
#include <cstdint>

namespace chatpipe {

inline int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace chatpipe
