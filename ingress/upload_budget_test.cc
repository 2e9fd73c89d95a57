#include "ingress/upload_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace chatpipe {
namespace {

TEST(UploadBudgetTest, ClaimsUpToTheBudgetAndGivesBackOnDestruction) {
  UploadBudget budget(100, 100);  // uploads as large as the budget: one client may hold all of it
  auto a = budget.Claim("a", 60);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(budget.Claim("b", 41), nullptr);  // 60 + 41 > 100
  auto b = budget.Claim("b", 40);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(budget.in_use(), 100u);
  a.reset();
  EXPECT_EQ(budget.in_use(), 40u);
  EXPECT_NE(budget.Claim("a", 60), nullptr);
  EXPECT_EQ(budget.Claim("c", 101), nullptr);  // never, whatever is free
}

TEST(UploadBudgetTest, OneClientHoldsAQuarterOfTheBudgetAtMost) {
  UploadBudget budget(100, 10);
  EXPECT_EQ(budget.max_per_client(), 25u);
  auto a1 = budget.Claim("a", 10), a2 = budget.Claim("a", 10);
  ASSERT_NE(a1, nullptr);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(budget.Claim("a", 10), nullptr);  // 30 > 25
  auto b = budget.Claim("b", 10);             // the others still get theirs
  ASSERT_NE(b, nullptr);
  a1.reset();
  EXPECT_NE(budget.Claim("a", 10), nullptr);
  // The share is never less than one upload of the largest size.
  EXPECT_EQ(UploadBudget(100, 40).max_per_client(), 40u);
  EXPECT_EQ(UploadBudget(100, 400).max_per_client(), 100u);
}

TEST(UploadBudgetTest, ConcurrentClaimsNeverPassTheBudget) {
  UploadBudget budget(1000, 1000);
  std::atomic<size_t> peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        auto claim = budget.Claim(std::to_string(t % 2), 300);
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
