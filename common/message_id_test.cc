#include "common/message_id.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace chatpipe {

TEST(MessageId, StrictlyIncreasingWithinOneMillisecond) {
  MessageIdGenerator gen(7);
  uint64_t prev = 0;
  for (int i = 0; i < 10000; ++i) {  // more than 4096: forces borrowing from later milliseconds
    uint64_t id = gen.NextAt(1750000000000ULL);
    ASSERT_GT(id, prev);
    ASSERT_EQ(MessageIdGenerator::Instance(id), 7u);
    prev = id;
  }
}

TEST(MessageId, EncodesTimestampAndInstance) {
  MessageIdGenerator gen(1023);
  uint64_t id = gen.NextAt(1750000000123ULL);
  EXPECT_EQ(MessageIdGenerator::TimestampMs(id), 1750000000123ULL);
  EXPECT_EQ(MessageIdGenerator::Instance(id), 1023u);
}

TEST(MessageId, ClockGoingBackwardsStillIncreases) {
  MessageIdGenerator gen(3);
  uint64_t a = gen.NextAt(1750000001000ULL);
  uint64_t b = gen.NextAt(1750000000000ULL);
  EXPECT_GT(b, a);
}

TEST(MessageId, DifferentInstancesNeverCollide) {
  MessageIdGenerator a(1), b(2);
  std::set<uint64_t> seen;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(seen.insert(a.NextAt(1750000000000ULL)).second);
    ASSERT_TRUE(seen.insert(b.NextAt(1750000000000ULL)).second);
  }
}

TEST(MessageId, UniqueAcrossThreads) {
  MessageIdGenerator gen(5);
  std::vector<std::vector<uint64_t>> out(4);
  std::vector<std::thread> threads;
  for (auto& v : out)
    threads.emplace_back([&gen, &v] {
      for (int i = 0; i < 20000; ++i) v.push_back(gen.Next());
    });
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (auto& v : out) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 80000u);
}

}  // namespace chatpipe
