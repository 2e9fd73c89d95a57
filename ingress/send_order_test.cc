#include "ingress/send_order.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chatpipe {
namespace {

TEST(SendOrderTest, EndsRunInTheOrderThePlacesWereTaken) {
  SendOrder order;
  std::vector<int> ran;
  uint64_t p[4];
  for (uint64_t& place : p) ASSERT_TRUE(order.Take(&place));
  order.End(p[2], [&] { ran.push_back(2); });
  order.End(p[1], [&] { ran.push_back(1); });
  EXPECT_TRUE(ran.empty()) << "place 0 has not ended";
  order.End(p[0], [&] { ran.push_back(0); });
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  order.End(p[3], [&] { ran.push_back(3); });
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(order.open(), 0u);
}

TEST(SendOrderTest, APlaceTakenAndEndedWhileTheLineIsEmptyEndsAtOnce) {
  SendOrder order;
  for (int i = 0; i < 3; ++i) {
    uint64_t place;
    ASSERT_TRUE(order.Take(&place));
    bool ran = false;
    order.End(place, [&] { ran = true; });
    EXPECT_TRUE(ran) << "send " << i;
  }
}

TEST(SendOrderTest, AnEndThatEndsAnotherPlaceKeepsTheOrder) {
  SendOrder order;
  std::vector<std::string> ran;
  uint64_t a, b, c;
  ASSERT_TRUE(order.Take(&a) && order.Take(&b) && order.Take(&c));
  order.End(b, [&] {
    ran.push_back("b");
    order.End(c, [&] { ran.push_back("c"); });
  });
  order.End(a, [&] { ran.push_back("a"); });
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(order.open(), 0u);
}

TEST(SendOrderTest, OpenPlacesAreBounded) {
  SendOrder order;
  uint64_t first = 0, place = 0;
  ASSERT_TRUE(order.Take(&first));
  for (size_t i = 1; i < SendOrder::kMaxOpen; ++i) ASSERT_TRUE(order.Take(&place));
  EXPECT_FALSE(order.Take(&place));
  order.End(first, [] {});
  EXPECT_TRUE(order.Take(&place)) << "a place is free again once the first has ended";
  EXPECT_EQ(place, SendOrder::kMaxOpen);
}

}  // namespace
}  // namespace chatpipe
