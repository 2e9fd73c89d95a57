#include "ingress/upload_budget.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace chatpipe {
namespace {

TEST(UploadBudgetTest, ClaimsUpToTheBudgetAndGivesBackOnDestruction) {
  UploadBudget budget(100);
  auto a = budget.Claim(60);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget.Claim(41), nullptr);  // 60 + 41 > 100
  auto b = budget.Claim(40);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(budget.in_use(), 100u);
  a.reset();
  EXPECT_EQ(budget.in_use(), 40u);
  EXPECT_NE(budget.Claim(60), nullptr);
  EXPECT_EQ(budget.Claim(101), nullptr);  // never, whatever is free
}

TEST(UploadBudgetTest, ConcurrentClaimsNeverPassTheBudget) {
  UploadBudget budget(1000);
  std::atomic<size_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        auto claim = budget.Claim(300);
        size_t now = budget.in_use();
        size_t seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 1000u);
  EXPECT_EQ(budget.in_use(), 0u);
}

}  // namespace
}  // namespace chatpipe
