// MessageIdGenerator: unique, time-ordered 64-bit ids, stamped by ingress on every accepted event.
//
// Layout (Snowflake-like): 41 bits of milliseconds since 2024-01-01 UTC, 10 bits of instance number,
// 12 bits of per-millisecond sequence. Ids from one generator strictly increase; ids from generators
// with different instance numbers never collide. When a millisecond's 4096 ids are used up the
// generator borrows from the next millisecond (ids stay unique and ordered; the clock catches up).
// Thread-safe: one generator is shared by every ingress loop of a process. An ingress may start before
// it has its instance number (PostgreSQL away): the generator then has none, and hands out no id, until
// SetInstance.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace chatpipe {

class MessageIdGenerator {
 public:
  static constexpr int kInstanceBits = 10;
  static constexpr int kSequenceBits = 12;
  static constexpr uint64_t kEpochMs = 1704067200000ULL;  // 2024-01-01T00:00:00Z

  MessageIdGenerator() = default;  // no instance yet
  explicit MessageIdGenerator(uint32_t instance) { SetInstance(instance); }
  // Once: the instance number, 0-1023 (higher bits are dropped).
  void SetInstance(uint32_t instance);
  bool HasInstance() const { return instance_.load(std::memory_order_acquire) != kNoInstance; }
  // Only once HasInstance().
  uint64_t Next();
  uint64_t NextAt(uint64_t now_ms);  // Next() with an explicit clock, for tests.

  static uint64_t TimestampMs(uint64_t id) { return (id >> (kInstanceBits + kSequenceBits)) + kEpochMs; }
  static uint32_t Instance(uint64_t id) { return (id >> kSequenceBits) & ((1u << kInstanceBits) - 1); }

 private:
  static constexpr uint64_t kNoInstance = ~0ULL;
  std::atomic<uint64_t> instance_{kNoInstance};
  std::atomic<uint64_t> last_{0};  // last id handed out
};

uint64_t NowMs();

}  // namespace chatpipe
