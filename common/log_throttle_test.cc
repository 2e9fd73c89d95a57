#include "common/log_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chatpipe {
namespace {

TEST(LogThrottleTest, OneLineAnIntervalSayingHowManyWereHeldBack) {
  LogThrottle throttle(1000);
  int64_t held = -1;
  ASSERT_TRUE(throttle.Due(5000, &held));
  EXPECT_EQ(held, 0);
  for (int64_t t : {5000, 5001, 5500, 5999}) EXPECT_FALSE(throttle.Due(t, &held)) << t;
  ASSERT_TRUE(throttle.Due(6000, &held));
  EXPECT_EQ(held, 4);
  EXPECT_FALSE(throttle.Due(6999, &held));
  ASSERT_TRUE(throttle.Due(9000, &held));  // a quiet spell: the next line is due at once
  EXPECT_EQ(held, 1);
}

TEST(LogThrottleTest, ThreadsAskingAtOnceWriteOneLine) {
  LogThrottle throttle(1000);
  std::atomic<int> due{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      int64_t held = 0;
      for (int i = 0; i < 10000; ++i) due += throttle.Due(100, &held) ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(due.load(), 1);
  int64_t held = 0;
  ASSERT_TRUE(throttle.Due(1100, &held));
  EXPECT_EQ(held, 4 * 10000 - 1);
}

}  // namespace
}  // namespace chatpipe
