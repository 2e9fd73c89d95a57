#include "ingress/task_queue.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chatpipe {
namespace {

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST(TaskQueueTest, AFullQueueRefusesNewWorkUntilItsAnswersHaveRun) {
  TaskQueue q(2);
  ASSERT_TRUE(q.Admit());
  ASSERT_TRUE(q.Admit());
  EXPECT_FALSE(q.Admit()) << "two answers are owed: a third piece of work must be refused";
  EXPECT_EQ(q.owed(), 2u);
  int ran = 0;
  q.Answer([&] { ++ran; });
  EXPECT_FALSE(q.Admit()) << "an answer frees its place only once it has run";
  q.RunPending();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(q.owed(), 1u);
  EXPECT_TRUE(q.Admit());
  EXPECT_FALSE(q.Admit());
}

TEST(TaskQueueTest, WithdrawGivesBackAPlaceWhoseWorkNeverStarted) {
  TaskQueue q(1);
  ASSERT_TRUE(q.Admit());
  EXPECT_FALSE(q.Admit());
  q.Withdraw();
  EXPECT_EQ(q.owed(), 0u);
  EXPECT_TRUE(q.Admit());
}

TEST(TaskQueueTest, PostsAreTakenWhenFullAndEverythingRunsInOrder) {
  TaskQueue q(1);
  ASSERT_TRUE(q.Admit());
  std::vector<int> order;
  q.Post([&] { order.push_back(1); });
  q.Answer([&] { order.push_back(2); });
  q.Post([&] { order.push_back(3); });
  EXPECT_TRUE(Readable(q.fd())) << "waiting tasks must wake the loop";
  q.RunPending();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(Readable(q.fd()));
  EXPECT_EQ(q.owed(), 0u);
}

TEST(TaskQueueTest, AnswersFromOtherThreadsAllRunOnceOnTheLoop) {
  constexpr int kThreads = 4, kEach = 2000;
  TaskQueue q(kThreads * kEach);
  for (int i = 0; i < kThreads * kEach; ++i) ASSERT_TRUE(q.Admit());
  EXPECT_FALSE(q.Admit());
  const auto loop_thread = std::this_thread::get_id();
  int ran = 0;  // touched by the tasks, on this thread only
  std::atomic<int> elsewhere{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i)
        q.Answer([&] {
          ++ran;
          if (std::this_thread::get_id() != loop_thread) ++elsewhere;
        });
    });
  // The loop keeps running what arrives while the threads are still answering.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ran < kThreads * kEach && std::chrono::steady_clock::now() < deadline) {
    pollfd p{q.fd(), POLLIN, 0};
    if (poll(&p, 1, 100) == 1) q.RunPending();
  }
  for (auto& t : threads) t.join();
  q.RunPending();
  EXPECT_EQ(ran, kThreads * kEach);
  EXPECT_EQ(elsewhere.load(), 0);
  EXPECT_EQ(q.owed(), 0u);
  EXPECT_TRUE(q.Admit());
}

}  // namespace
}  // namespace chatpipe
