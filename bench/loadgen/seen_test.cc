#include "bench/loadgen/seen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace chatpipe::bench {
namespace {

TEST(SeenSeqsTest, InOrderAreNewAndRepeatsAreDuplicates) {
  SeenSeqs seen;
  for (uint32_t s = 0; s < 200; ++s) EXPECT_TRUE(seen.Add(s)) << s;
  EXPECT_EQ(seen.next(), 200u);
  EXPECT_FALSE(seen.Add(0));
  EXPECT_FALSE(seen.Add(199));
  EXPECT_TRUE(seen.Add(200));
}

TEST(SeenSeqsTest, AGapThatClosesLeavesNothingAhead) {
  SeenSeqs seen;
  EXPECT_TRUE(seen.Add(0));
  EXPECT_TRUE(seen.Add(2));
  EXPECT_TRUE(seen.Add(70));
  EXPECT_FALSE(seen.Add(2));
  EXPECT_FALSE(seen.Add(70));
  EXPECT_EQ(seen.next(), 1u);
  EXPECT_TRUE(seen.Add(1));
  EXPECT_EQ(seen.next(), 3u);  // 2 was already there
  for (uint32_t s = 3; s < 70; ++s) EXPECT_TRUE(seen.Add(s)) << s;
  EXPECT_EQ(seen.next(), 71u);  // and 70
  EXPECT_FALSE(seen.Add(70));
}

TEST(SeenSeqsTest, ALostMessageKeepsEverythingAfterItExact) {
  SeenSeqs seen;
  EXPECT_TRUE(seen.Add(0));
  for (uint32_t s = 2; s < 1000; ++s) EXPECT_TRUE(seen.Add(s)) << s;  // 1 never comes
  EXPECT_EQ(seen.next(), 1u);
  for (uint32_t s : {0u, 2u, 500u, 999u}) EXPECT_FALSE(seen.Add(s)) << s;
  EXPECT_TRUE(seen.Add(1000));
}

// Against a plain set, on shuffled windows with repeats: the same verdict for every delivery.
TEST(SeenSeqsTest, AgreesWithASetOnShuffledDeliveries) {
  std::mt19937 rng(7);
  SeenSeqs seen;
  std::set<uint32_t> truth;
  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < 20000; ++s) {
    order.push_back(s);
    if (rng() % 10 == 0) order.push_back(s);  // a duplicate
  }
  for (size_t i = 0; i + 100 <= order.size(); i += 100)  // reordered within windows of 100
    std::shuffle(order.begin() + static_cast<long>(i), order.begin() + static_cast<long>(i + 100), rng);
  for (uint32_t s : order) ASSERT_EQ(seen.Add(s), truth.insert(s).second) << s;
}

}  // namespace
}  // namespace chatpipe::bench
