#include "tests/support/wait.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chatpipe::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(WaitForTest, PollingSeesAConditionAnotherThreadMakesTrue) {
  std::atomic<bool> flag{false};
  std::thread setter([&] {
    std::this_thread::sleep_for(50ms);  // the other side's work, not a synchronisation
    flag = true;
  });
  auto t0 = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return flag.load(); }, 10s));
  EXPECT_LT(Clock::now() - t0, 5s);
  setter.join();
}

TEST(WaitForTest, PollingGivesUpAtTheDeadlineAfterALastCheck) {
  int checks = 0;
  auto t0 = Clock::now();
  EXPECT_FALSE(WaitFor([&] {
    ++checks;
    return false;
  }, 100ms));
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 2s);
  EXPECT_GE(checks, 2);
}

TEST(WaitForTest, EventStepsGetTheTimeLeftAndALastCallWithNone) {
  std::vector<std::chrono::milliseconds> given;
  EXPECT_FALSE(WaitFor([&](std::chrono::milliseconds left) {
    given.push_back(left);
    std::this_thread::sleep_for(std::min(left, 40ms));  // a step blocking on its event
    return false;
  }, 150ms));
  ASSERT_GE(given.size(), 3u);
  EXPECT_LE(given.front(), 150ms);
  for (size_t i = 1; i < given.size(); ++i) EXPECT_LT(given[i], given[i - 1]);
  EXPECT_EQ(given.back(), 0ms);
}

TEST(WaitForTest, EventWaitEndsAsSoonAsAStepSucceeds) {
  int steps = 0;
  EXPECT_TRUE(WaitFor([&](std::chrono::milliseconds) { return ++steps == 3; }, 10s));
  EXPECT_EQ(steps, 3);
}

}  // namespace
}  // namespace chatpipe::test
