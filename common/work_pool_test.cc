#include "common/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace chatpipe {
namespace {

TEST(WorkPoolTest, AFullQueueRefusesAtOnceAndStopRunsWhatWasQueued) {
  WorkPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    released.wait();
    ++ran;
  }));
  started.get_future().wait();  // the one thread is busy: what follows waits in the queue
  ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  ASSERT_TRUE(pool.Submit([&] { ++ran; }));
  EXPECT_FALSE(pool.Submit([&] { ++ran; })) << "two jobs wait already: a third must be refused";
  release.set_value();
  pool.Stop();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_FALSE(pool.Submit([&] { ++ran; })) << "a stopped pool refuses";
}

}  // namespace
}  // namespace chatpipe
