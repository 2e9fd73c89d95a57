#include "analysis/pair_filter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace chatpipe::analysis {
namespace {

TEST(PairFilter, EmptyHasNothing) {
  PairFilter f;
  for (int a = -1; a < 50; ++a)
    for (int b = -1; b < 50; ++b) EXPECT_FALSE(f.MayHave(a, b)) << a << " " << b;
}

// Never no wrongly, and rarely yes wrongly at the lists' size (two thousand pairs).
TEST(PairFilter, HasEveryPairAddedAndFewOthers) {
  PairFilter f;
  std::vector<std::pair<int, int>> added;
  uint32_t x = 19;
  auto next = [&] { return static_cast<int>((x = x * 1664525u + 1013904223u) >> 12); };
  for (int i = 0; i < 2000; ++i) {
    added.emplace_back(next(), next());
    f.Add(added.back().first, added.back().second);
  }
  for (const auto& [a, b] : added) ASSERT_TRUE(f.MayHave(a, b)) << a << " " << b;
  int wrong = 0;
  const int tries = 100000;
  for (int i = 0; i < tries; ++i) wrong += f.MayHave(next(), next());
  EXPECT_LT(wrong, tries / 10);
  // The pair's order counts: the words of a pair swapped are mostly no pair.
  int swapped = 0;
  for (const auto& [a, b] : added) swapped += f.MayHave(b, a);
  EXPECT_LT(swapped, 200);
}

}  // namespace
}  // namespace chatpipe::analysis
