#include "common/message_id.h"

#include <chrono>

namespace chatpipe {

uint64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void MessageIdGenerator::SetInstance(uint32_t instance) {
  instance_.store(instance & ((1u << kInstanceBits) - 1), std::memory_order_release);
}

uint64_t MessageIdGenerator::Next() { return NextAt(NowMs()); }

uint64_t MessageIdGenerator::NextAt(uint64_t now_ms) {
  const uint64_t instance = instance_.load(std::memory_order_relaxed);
  const uint64_t ms = now_ms > kEpochMs ? now_ms - kEpochMs : 0;
  const uint64_t floor = (ms << (kInstanceBits + kSequenceBits)) | (instance << kSequenceBits);
  uint64_t last = last_.load(std::memory_order_relaxed);
  for (;;) {
    // Either the first id of this millisecond, or one past the last id (same or borrowed millisecond).
    uint64_t next = floor > last ? floor : last + 1;
    if ((next >> kSequenceBits & ((1u << kInstanceBits) - 1)) != instance) {
      // The sequence overflowed into the instance bits: jump to the next millisecond's first id.
      next = ((next >> (kInstanceBits + kSequenceBits)) + 1) << (kInstanceBits + kSequenceBits) |
             (instance << kSequenceBits);
    }
    if (last_.compare_exchange_weak(last, next, std::memory_order_relaxed)) return next;
  }
}

}  // namespace chatpipe
